package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
)

// TestWorklistsConcurrentSameBytes: the work lists built at once on every
// core are, county by county, the bytes of one workbook built alone, every
// county is written once, and a failure returns the first failing
// county's error in county order, whichever worker met it first.
func TestWorklistsConcurrentSameBytes(t *testing.T) {
	rows := syntheticRows(3000)
	topK := rankRows(rows, DefaultTopShare, nil)
	rk := &ranking{rows: rows, topK: topK}
	in := &inputs{day: "2025-12-31"}
	counties := slices.Sorted(maps.Keys(topK))
	if len(counties) < 3 {
		t.Fatalf("%d counties, want at least 3", len(counties))
	}
	var mu sync.Mutex
	got := map[string][]byte{}
	create := func(rel string, fn func(io.Writer) error) error {
		var b bytes.Buffer
		if err := fn(&b); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[rel]; dup {
			return fmt.Errorf("%s written twice", rel)
		}
		got[rel] = b.Bytes()
		return nil
	}
	if err := writeWorklists(context.Background(), in, rk, nil, create); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(counties) {
		t.Fatalf("%d files, want %d", len(got), len(counties))
	}
	for _, c := range counties {
		var alone bytes.Buffer
		var crows []*rundir.Row
		for i := range rows {
			if rows[i].CountyCode == c {
				crows = append(crows, &rows[i])
			}
		}
		if err := writeWorklist(&alone, &worklist{county: c, asOf: in.day, k: topK[c], rows: crows}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got["worklists/"+c+".xlsx"], alone.Bytes()) {
			t.Errorf("county %s: the concurrent workbook differs from the one built alone", c)
		}
	}
	// The second and the last county fail: the error is the second's.
	bad := map[string]bool{"worklists/" + counties[1] + ".xlsx": true, "worklists/" + counties[len(counties)-1] + ".xlsx": true}
	fail := func(rel string, fn func(io.Writer) error) error {
		if bad[rel] {
			return errors.New("disk full at " + rel)
		}
		return fn(io.Discard)
	}
	err := writeWorklists(context.Background(), in, rk, nil, fail)
	if want := "disk full at worklists/" + counties[1] + ".xlsx"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}
