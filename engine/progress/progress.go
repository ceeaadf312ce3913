// Package progress is the contract between long work and whoever shows
// it. Engine packages take a Reporter in their options and report each
// long stage (a table ingested, a feature family computed, a tree grown)
// through it; the command line decides how that looks: a bar on a
// terminal, one line per command under cron, nothing with --quiet.
// It is a leaf, so every package may use it.
package progress

// Reporter starts the tracking of one stage of known (or unknown, 0) size.
type Reporter interface {
	Start(stage string, total int64) Task
}

// Task is one running stage: Add counts work done, Done ends the stage
// (its line or bar is finished). Done must be called exactly once.
type Task interface {
	Add(n int64)
	Done()
}

// Or returns r, or a Reporter that shows nothing when r is nil.
func Or(r Reporter) Reporter {
	if r == nil {
		return nop{}
	}
	return r
}

type nop struct{}

func (nop) Start(string, int64) Task { return nopTask{} }

type nopTask struct{}

func (nopTask) Add(int64) {}
func (nopTask) Done()     {}

// Sizer is a Task whose total can be given, or estimated again, after it
// started (a CSV table's rows, estimated from the bytes read so far).
type Sizer interface {
	SetTotal(total int64)
}

// SetTotal gives t its total when t can take one; other tasks keep
// theirs.
func SetTotal(t Task, total int64) {
	if s, ok := t.(Sizer); ok {
		s.SetTotal(total)
	}
}
