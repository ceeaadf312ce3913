package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/povrisk/povrisk/datasets"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/warehouse"
)

// failingWriter passes left bytes through, then fails like a full disk.
type failingWriter struct {
	w    io.Writer
	left int64
	path string
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= f.left {
		n, err := f.w.Write(p)
		f.left -= int64(n)
		return n, err
	}
	n, _ := f.w.Write(p[:f.left])
	f.left = 0
	return n, &os.PathError{Op: "write", Path: f.path, Err: syscall.ENOSPC}
}

// countingWriter counts the bytes written to one file.
type countingWriter struct {
	w io.Writer
	n *int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	*c.n += int64(n)
	return n, err
}

// fileKey names a file the ingest writes by its directory and base name
// (the work directory's name changes from run to run).
func fileKey(path string) string {
	return filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

// TestWriteFailures: a disk that fills up while any file of the ingest is
// written (each table's Parquet, each reject file, the drop's manifest,
// the version's manifest, CURRENT), after 0, half or all but one of its
// bytes, fails with "could not write" (not bad input), commits nothing,
// leaves the drop unmerged, and the rerun on a good disk does the whole
// work and gives the warehouse a clean ingest gives.
func TestWriteFailures(t *testing.T) {
	db := openDB(t)
	// The dirty drop without its two broken files: reject files for most
	// tables, merged into a warehouse holding the clean drop.
	drop := copyDropWithout(t, filepath.Join("testdata", "dirty"), "social_insurance.csv", "education.csv")
	opts := func(wh string) Options {
		return Options{Drop: drop, Warehouse: wh, Key: testKey, MaxRejectShare: 1}
	}
	base := func(t *testing.T) string {
		wh := filepath.Join(t.TempDir(), "wh")
		ingestT(t, filepath.Join("testdata", "clean"), wh)
		return wh
	}
	ref := base(t)
	var mu sync.Mutex
	sizes := map[string]*int64{}
	o := opts(ref)
	o.Hooks.WrapWriter = func(path string, w io.Writer) io.Writer {
		mu.Lock()
		defer mu.Unlock()
		n := new(int64)
		sizes[fileKey(path)] = n
		return countingWriter{w, n}
	}
	if _, err := Run(context.Background(), db, o); err != nil {
		t.Fatal(err)
	}
	want := treeSums(t, ref)
	var keys []string
	for k := range sizes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kinds := map[string]int{}
	for _, k := range keys {
		kinds[strings.SplitN(k, "/", 2)[0]]++
	}
	if kinds[".new"] < 8 || kinds["rejects"] < 7 || kinds["drop"] != 1 || kinds["version"] != 1 || kinds["wh"] != 1 {
		t.Fatalf("files written through the hook: %v; want every table, reject file and manifest, and CURRENT", keys)
	}
	for _, k := range keys {
		size := *sizes[k]
		for _, n := range uniq(0, size/2, size-1) {
			t.Run(fmt.Sprintf("%s@%d", k, n), func(t *testing.T) {
				wh := base(t)
				v0, drops0 := currentOf(t, wh)
				o := opts(wh)
				o.Hooks.WrapWriter = func(path string, w io.Writer) io.Writer {
					if fileKey(path) == k {
						return &failingWriter{w: w, left: n, path: path}
					}
					return w
				}
				rep, err := Run(context.Background(), db, o)
				if fault.Of(err) != fault.Write || errors.Is(err, ErrUnhealthy) {
					t.Fatalf("full disk at %s: %v (kind %v), want could not write", k, err, fault.Of(err))
				}
				if !errors.Is(err, syscall.ENOSPC) && !strings.Contains(err.Error(), "no space left") {
					t.Errorf("error %q does not say the disk is full", err)
				}
				if v, drops := currentOf(t, wh); v != v0 || strings.Join(drops, ",") != strings.Join(drops0, ",") || rep.Version != "" {
					t.Fatalf("full disk committed: %s %v (report version %q)", v, drops, rep.Version)
				}
				rep, err = Run(context.Background(), db, opts(wh))
				if err != nil || rep.Unchanged {
					t.Fatalf("rerun: %v (unchanged %v), want the whole work done", err, rep.Unchanged)
				}
				if got := treeSums(t, wh); got != want {
					t.Errorf("warehouse after a full disk and a rerun:\n%s\nwant\n%s", got, want)
				}
			})
		}
	}
}

func uniq(ns ...int64) []int64 {
	var out []int64
	for _, n := range ns {
		if n >= 0 && (len(out) == 0 || out[len(out)-1] != n) {
			out = append(out, n)
		}
	}
	return out
}

// TestFullTmpfs fills a real file system: a 1500 KiB tmpfs holding a
// warehouse, into which a drop too large for it is ingested. It needs root
// (CI runs as root); elsewhere it skips, saying so.
func TestFullTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("TestFullTmpfs: not root, cannot mount a tmpfs; the full disk is tested by TestWriteFailures only")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1500k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("TestFullTmpfs: mount of a tmpfs refused (%v: %s); the full disk is tested by TestWriteFailures only", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	dir := t.TempDir()
	// big alone does not fit; small does, and then mid's tables (written
	// by the loader) fit beside it but the merged version (written by
	// DuckDB) does not, in the runs so far.
	small, mid, big := filepath.Join(dir, "small"), filepath.Join(dir, "mid"), filepath.Join(dir, "big")
	for _, d := range []struct {
		path string
		n    int
	}{{small, 300}, {mid, 2000}, {big, 3000}} {
		if _, err := datasets.Generate(context.Background(), datasets.GenerateOptions{Households: d.n, Months: 8, Seed: 5, Out: d.path}); err != nil {
			t.Fatal(err)
		}
	}
	// The same two drops into a warehouse with room: the reference.
	ref := filepath.Join(dir, "ref", "w")
	ingestT(t, small, ref)
	ingestT(t, mid, ref)
	want := treeSums(t, ref)

	wh := filepath.Join(mnt, "w")
	// Into the empty warehouse: the tables written by the loader fill it.
	_, err := Run(context.Background(), openDB(t), Options{Drop: big, Warehouse: wh, Key: testKey})
	if fault.Of(err) != fault.Write {
		t.Fatalf("first ingest into a full tmpfs: %v (kind %v), want could not write", err, fault.Of(err))
	}
	t.Logf("full tmpfs, empty warehouse: %v", err)
	if _, err := warehouse.Open(wh); !errors.Is(err, warehouse.ErrNoVersion) {
		t.Fatalf("full tmpfs committed: %v", err)
	}
	first := ingestT(t, small, wh)
	rep, err := Run(context.Background(), openDB(t), Options{Drop: mid, Warehouse: wh, Key: testKey})
	if fault.Of(err) != fault.Write {
		t.Fatalf("ingest into a full tmpfs: %v (kind %v), want could not write", err, fault.Of(err))
	}
	t.Logf("full tmpfs: %v", err)
	if v, drops := currentOf(t, wh); v != first.Version || len(drops) != 1 || rep.Version != "" {
		t.Fatalf("full tmpfs committed: %s %v", v, drops)
	}
	if out, err := exec.Command("mount", "-o", "remount,size=64m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	rep = ingestT(t, mid, wh)
	if rep.Unchanged || rep.Version != "v000002" {
		t.Fatalf("rerun with room: unchanged %v version %s, want v000002", rep.Unchanged, rep.Version)
	}
	if got := treeSums(t, wh); got != want {
		t.Errorf("warehouse after a full tmpfs and a rerun differs from a clean ingest:\n%s\nwant\n%s", got, want)
	}
	// A read-only file system is "could not write" too.
	if out, err := exec.Command("mount", "-o", "remount,ro", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v: %s", err, out)
	}
	_, err = Run(context.Background(), openDB(t), Options{Drop: filepath.Join("testdata", "clean"), Warehouse: wh, Key: testKey})
	if fault.Of(err) != fault.Write || !errors.Is(err, syscall.EROFS) {
		t.Fatalf("ingest into a read-only warehouse: %v (kind %v), want could not write", err, fault.Of(err))
	}
	if v, _ := currentOf(t, wh); v != "v000002" {
		t.Fatalf("read-only warehouse at %s", v)
	}
	if got := treeSums(t, wh); got != want {
		t.Error("a failed ingest changed a read-only warehouse")
	}
}

// TestConcurrentIngests starts two ingests of different drops on one
// warehouse together, 20 times: without waiting, one succeeds and the
// other is busy naming the holder (or both succeed one after the other);
// with --wait both succeed. The warehouse is always exactly that of the
// successful ingests done one after the other.
func TestConcurrentIngests(t *testing.T) {
	db := openDB(t)
	clean, a, b := filepath.Join("testdata", "clean"), filepath.Join("testdata", "later"), filepath.Join("testdata", "enc", "utf8")
	refs := map[string]string{}
	for _, order := range [][]string{{a}, {b}, {a, b}, {b, a}} {
		wh := filepath.Join(t.TempDir(), "w")
		ingestT(t, clean, wh)
		for _, d := range order {
			ingestT(t, d, wh)
		}
		refs[strings.Join(order, "+")] = treeSums(t, wh)
	}
	outcomes := map[string]int{}
	for round := 0; round < 20; round++ {
		for _, wait := range []bool{false, true} {
			wh := filepath.Join(t.TempDir(), "w")
			ingestT(t, clean, wh)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 2)
			var mu sync.Mutex
			var done []string
			for i, d := range []string{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					o := Options{Drop: d, Warehouse: wh, Key: testKey}
					if wait {
						o.Wait = 30e9
					}
					<-start
					_, errs[i] = Run(context.Background(), db, o)
					if errs[i] == nil {
						mu.Lock()
						done = append(done, d)
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			for _, err := range errs {
				if err != nil && (wait || fault.Of(err) != fault.Busy || !strings.Contains(err.Error(), fmt.Sprintf("pid %d (povrisk ingest)", os.Getpid()))) {
					t.Fatalf("round %d (wait %v): %v (kind %v), want busy naming the holder", round, wait, err, fault.Of(err))
				}
			}
			if len(done) == 0 || wait && len(done) != 2 {
				t.Fatalf("round %d (wait %v): %d ingests succeeded", round, wait, len(done))
			}
			// The order of completion is the order of the commits: the
			// lock is held from Begin to Commit.
			key := strings.Join(done, "+")
			if got := treeSums(t, wh); got != refs[key] {
				t.Fatalf("round %d (wait %v): warehouse after %s is not that of the ingests one after the other:\n%s\nwant\n%s", round, wait, key, got, refs[key])
			}
			w, err := warehouse.Open(wh)
			if err != nil {
				t.Fatal(err)
			}
			for _, ts := range w.Manifest().Tables {
				p, _ := w.TablePath(ts.Name)
				dumpParquet(t, p)
			}
			outcomes[fmt.Sprintf("wait=%v successes=%d", wait, len(done))]++
		}
	}
	t.Logf("outcomes: %v", outcomes)
}
