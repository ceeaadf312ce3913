// Package lock is the one writer's lock of povrisk: a warehouse or a runs
// directory is written by one process at a time. The lock is an flock(2)
// on a file in the directory, so the kernel releases it when its holder
// dies, however it dies: a stale lock of a dead process is taken over by
// the next writer without any guessing. The file also says who holds it
// (pid, command, since when), for the message a second writer prints.
package lock

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
)

// FileName is the lock file's name inside the locked directory.
const FileName = "LOCK"

// Holder is who holds a lock, as written into the lock file.
type Holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	Since   string `json:"since"` // RFC 3339, UTC
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process"
	}
	return fmt.Sprintf("pid %d (%s) since %s", h.PID, h.Command, h.Since)
}

// Lock is a held lock; Release gives it up.
type Lock struct {
	f    *os.File
	path string
}

// Options of Acquire.
type Options struct {
	Command string        // what the holder is doing, e.g. "povrisk run"
	Wait    time.Duration // how long to wait for a busy lock; 0 fails at once
	Now     func() time.Time
}

// poll is how often a waiting writer tries again.
const poll = 100 * time.Millisecond

// Acquire takes the lock on dir (which must exist). A busy lock is an
// error of kind fault.Busy naming the holder, after waiting up to o.Wait.
func Acquire(dir string, o Options) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("lock %s: %w", dir, err))
	}
	deadline := time.Now().Add(o.Wait)
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fault.Wrap(fault.Write, fmt.Errorf("lock %s: %w", dir, err))
		}
		if !time.Now().Before(deadline) {
			h := holderAfterRace(path)
			f.Close()
			wait := ""
			if o.Wait > 0 {
				wait = fmt.Sprintf(" after waiting %s", o.Wait)
			}
			return nil, fault.Wrap(fault.Busy, fmt.Errorf("%s is locked by %s%s: wait for it to finish, or pass --wait DURATION", dir, h, wait))
		}
		time.Sleep(poll)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	h := Holder{PID: os.Getpid(), Command: o.Command, Since: now().UTC().Format(time.RFC3339)}
	b, _ := json.Marshal(h)
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	// The holder line is for messages only; failing to write it does not
	// weaken the lock, so it is not an error.
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up. The file stays (removing it would race with
// a waiter that has it open); its holder line is cleared.
func (l *Lock) Release() {
	if l == nil || l.f == nil {
		return
	}
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// HolderOf reads who holds the lock on dir, without taking it; ok is
// false when nobody does.
func HolderOf(dir string) (h Holder, ok bool) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return Holder{}, false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return Holder{}, false
	}
	return holderAfterRace(path), true
}

// holderAfterRace reads the holder of a busy lock. A holder writes its
// line just after taking the flock, so a reader in that instant finds the
// file empty: it reads again for a moment before giving up on a name.
func holderAfterRace(path string) Holder {
	h := readHolder(path)
	for i := 0; h.PID == 0 && i < 10; i++ {
		time.Sleep(10 * time.Millisecond)
		h = readHolder(path)
	}
	return h
}

func readHolder(path string) Holder {
	var h Holder
	b, err := os.ReadFile(path)
	if err == nil {
		json.Unmarshal(b, &h)
	}
	return h
}
