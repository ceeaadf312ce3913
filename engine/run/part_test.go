package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
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
