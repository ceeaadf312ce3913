package boost

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team is the goroutines of one Fit: nw-1 helpers that live as long as the
// fit, and the caller. A boosted tree is hundreds of short parallel steps
// (a split's partition and histograms take tens of microseconds on small
// tables); a goroutine started for each, or a helper woken from sleep,
// arrives after much of the step is done. The helpers therefore wait for
// the next step by polling for spinFor (as OpenMP's threads do) and only
// then sleep. Blocks are claimed one at a time from a shared counter, so
// which goroutine does which block never changes a result.
type team struct {
	job     atomic.Pointer[job]
	quit    atomic.Bool
	helpers []*helper
	wg      sync.WaitGroup
}

// spinFor is how long an idle helper polls for the next step before it
// sleeps: most serial work between two steps of a split (choosing the
// leaf, a small partition or histogram) takes less; longer, polling only
// burns CPU, which a loaded machine's other processes, and this fit's own
// caller, want (it was 20 us: on UCI adult under load 9, 5 us took 5-8%
// less CPU; on the engine table 1-8% less).
const spinFor = 5 * time.Microsecond

// job is one parallel step: fn(b) for b in 0..nb-1.
type job struct {
	fn         func(b int)
	nb         int64
	next, done atomic.Int64
	// The caller, done with its blocks, polls for the others' for spinFor
	// and then sleeps on fin (made before waiting is set), sent by the
	// goroutine finishing the last block.
	waiting atomic.Int32
	fin     chan struct{}
}

// helper is one helper goroutine's sleeping flag and wake-up channel: the
// caller that finds sleeping set (and clears it) sends on wake.
type helper struct {
	sleeping atomic.Int32
	wake     chan struct{}
}

// newTeam starts nw-1 helpers, at most GOMAXPROCS-1 (more would poll
// for a processor, not for work); nil when that is none (steps then start
// goroutines, or run serially for nw <= 1). close stops them.
func newTeam(nw int) *team {
	nh := min(nw, runtime.GOMAXPROCS(0)) - 1
	if nh <= 0 {
		return nil
	}
	t := &team{}
	for range nh {
		h := &helper{wake: make(chan struct{}, 1)}
		t.helpers = append(t.helpers, h)
		t.wg.Add(1)
		go t.serve(h)
	}
	return t
}

// close stops the helpers and waits for them.
func (t *team) close() {
	if t == nil {
		return
	}
	t.quit.Store(true)
	t.wakeAll()
	t.wg.Wait()
}

func (t *team) wakeAll() {
	for _, h := range t.helpers {
		if h.sleeping.CompareAndSwap(1, 0) {
			h.wake <- struct{}{}
		}
	}
}

// run calls fn(b) for every b in 0..nb-1 on the team (serially when nw <= 1
// or there is one block) and returns when all are done.
func (t *team) run(nb, nw int, fn func(b int)) {
	if t == nil || nw <= 1 || nb <= 1 {
		parallelBlocks(nb, nw, fn)
		return
	}
	j := &job{fn: fn, nb: int64(nb)}
	t.job.Store(j)
	t.wakeAll()
	j.work()
	if poll(func() bool { return j.done.Load() == j.nb }) {
		return
	}
	j.fin = make(chan struct{}, 1)
	j.waiting.Store(1)
	if j.done.Load() == j.nb && j.waiting.CompareAndSwap(1, 0) {
		return
	}
	<-j.fin
}

// poll reports whether ok() became true within spinFor.
func poll(ok func() bool) bool {
	deadline := time.Now().Add(spinFor)
	for i := 1; ; i++ {
		if ok() {
			return true
		}
		if i%64 == 0 {
			if time.Now().After(deadline) {
				return false
			}
			runtime.Gosched()
		}
	}
}

func (j *job) work() {
	for {
		b := j.next.Add(1) - 1
		if b >= j.nb {
			return
		}
		j.fn(int(b))
		if j.done.Add(1) == j.nb && j.waiting.CompareAndSwap(1, 0) {
			j.fin <- struct{}{}
		}
	}
}

// serve is a helper's loop: wait for a step other than the last one, work
// on it, until quit.
func (t *team) serve(h *helper) {
	defer t.wg.Done()
	var last *job
	for {
		j := t.await(h, last)
		if j == nil {
			return
		}
		j.work()
		last = j
	}
}

// await returns the next step after last (nil on quit): polling for
// spinFor, then asleep until woken.
func (t *team) await(h *helper, last *job) *job {
	var j *job
	if poll(func() bool { j = t.job.Load(); return j != last || t.quit.Load() }) {
		if t.quit.Load() {
			return nil
		}
		return j
	}
	for {
		h.sleeping.Store(1)
		// A step published before the flag was set found no one asleep:
		// take it back unless a waker already did (then its send comes).
		if j := t.job.Load(); j != last || t.quit.Load() {
			if !h.sleeping.CompareAndSwap(1, 0) {
				<-h.wake
			}
		} else {
			<-h.wake
		}
		if t.quit.Load() {
			return nil
		}
		if j := t.job.Load(); j != last {
			return j
		}
	}
}
