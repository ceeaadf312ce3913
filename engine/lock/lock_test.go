package lock

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/povrisk/povrisk/engine/fault"
)

func TestSecondWriterIsBusy(t *testing.T) {
	dir := t.TempDir()
	a, err := Acquire(dir, Options{Command: "povrisk run"})
	if err != nil {
		t.Fatal(err)
	}
	h, ok := HolderOf(dir)
	if !ok || h.PID != os.Getpid() || h.Command != "povrisk run" {
		t.Fatalf("HolderOf = %+v %v, want this process running povrisk run", h, ok)
	}
	start := time.Now()
	_, err = Acquire(dir, Options{Command: "povrisk ingest", Wait: 300 * time.Millisecond})
	if fault.Of(err) != fault.Busy {
		t.Fatalf("second Acquire: %v (kind %v), want busy", err, fault.Of(err))
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Fatal("the second writer did not wait")
	}
	if !strings.Contains(err.Error(), "povrisk run") {
		t.Fatalf("message %q does not name the holder", err)
	}
	a.Release()
	if _, ok := HolderOf(dir); ok {
		t.Fatal("released lock still held")
	}
	b, err := Acquire(dir, Options{Command: "povrisk ingest"})
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	b.Release()
}

func TestWaiterGetsLockWhenReleased(t *testing.T) {
	dir := t.TempDir()
	a, err := Acquire(dir, Options{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	go func() { time.Sleep(200 * time.Millisecond); a.Release() }()
	b, err := Acquire(dir, Options{Command: "second", Wait: 5 * time.Second})
	if err != nil {
		t.Fatalf("waiting writer: %v", err)
	}
	b.Release()
}

// A lock whose holder was killed is free: the kernel drops an flock with
// its process.
func TestDeadHolderIsTakenOver(t *testing.T) {
	if os.Getenv("LOCK_HELPER_DIR") != "" {
		if _, err := Acquire(os.Getenv("LOCK_HELPER_DIR"), Options{Command: "doomed"}); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestDeadHolderIsTakenOver$")
	cmd.Env = append(os.Environ(), "LOCK_HELPER_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := out.Read(buf)
	if !strings.Contains(string(buf[:n]), "locked") {
		t.Fatalf("helper did not lock: %q", buf[:n])
	}
	if h, ok := HolderOf(dir); !ok || h.Command != "doomed" {
		t.Fatalf("holder = %+v %v, want the helper", h, ok)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(dir, Options{Command: "next"})
	if err != nil {
		t.Fatalf("lock of a killed process not taken over: %v", err)
	}
	l.Release()
}
