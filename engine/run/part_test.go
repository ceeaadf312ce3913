package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/rundir"
)

// TestFirstCause: the halves cancelled by a failing one do not hide its
// error (a full disk leads, not "context canceled"); cancellations alone
// are kept, and no error at all is nil.
func TestFirstCause(t *testing.T) {
	full := fmt.Errorf("features: write x.parquet: %w", errors.New("no space left on device"))
	cancelled := fmt.Errorf("contributions: %w", context.Canceled)
	if err := firstCause(cancelled, nil, full, cancelled); err == nil || err.Error() != full.Error() {
		t.Errorf("firstCause = %v, want only %v", err, full)
	}
	other := fmt.Errorf("ranked.csv: %w", fs.ErrPermission)
	err := firstCause(cancelled, full, other)
	if err == nil || !strings.HasPrefix(err.Error(), full.Error()) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, context.Canceled) {
		t.Errorf("firstCause = %v, want the two causes in order and no cancellation", err)
	}
	if err := firstCause(cancelled, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("only cancellations: %v, want them kept", err)
	}
	if err := firstCause(nil, nil); err != nil {
		t.Errorf("no error: %v", err)
	}
}

// TestEnteredFirstRun: with no previous run nobody entered the top k (a
// first night's work lists say 本月新进入 0 户, as its changes.csv lists
// no "entered" line), whatever the rows hold.
func TestEnteredFirstRun(t *testing.T) {
	rows := []rundir.Row{{HouseholdID: "H1", InTopK: true}, {HouseholdID: "H2"}}
	got, err := enteredTopK(context.Background(), nil, t.TempDir(), "", rows)
	if err != nil || len(got) != 0 {
		t.Errorf("enteredTopK without a previous run = %v, %v; want none", got, err)
	}
}
