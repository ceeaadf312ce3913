package boost

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestTeamRunsEveryBlockOnce: each step calls fn once for every block,
// whether the helpers were polling (steps back to back) or asleep (a pause
// longer than spinFor before the step), and close stops them.
func TestTeamRunsEveryBlockOnce(t *testing.T) {
	for _, nw := range []int{1, 2, 3} {
		tm := newTeam(nw)
		for step := range 300 {
			if step%50 == 0 {
				time.Sleep(5 * spinFor) // the helpers go to sleep
			}
			nb := step % 37
			calls := make([]atomic.Int32, nb)
			var total atomic.Int64
			tm.run(nb, nw, func(b int) {
				calls[b].Add(1)
				total.Add(int64(b))
			})
			for b := range calls {
				if n := calls[b].Load(); n != 1 {
					t.Fatalf("workers %d step %d: block %d of %d ran %d times", nw, step, b, nb, n)
				}
			}
			if want := int64(nb * (nb - 1) / 2); total.Load() != want {
				t.Fatalf("workers %d step %d: blocks summed to %d, want %d", nw, step, total.Load(), want)
			}
		}
		tm.close()
	}
}
