package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// LogName is the audit log's file name inside a runs directory.
const LogName = "audit.log"

// Record is one line of the audit log.
type Record struct {
	Seq          int64             `json:"seq"`
	Time         string            `json:"time"` // RFC 3339, UTC
	User         string            `json:"user"`
	Command      string            `json:"command"`
	Run          string            `json:"run"` // run directory name (the as-of date)
	Inputs       map[string]string `json:"inputs"`
	Model        string            `json:"model"`
	PolicySHA256 string            `json:"policy_sha256"`
	Outputs      map[string]string `json:"outputs"` // path relative to the run directory -> sha256
	Prev         string            `json:"prev"`    // sha256 of the previous line ("" for the first)
	Hash         string            `json:"hash,omitempty"`
}

// canonical is the record's encoding without its hash: the bytes that Hash
// digests. encoding/json sorts map keys, so the encoding is deterministic.
func (r Record) canonical() []byte {
	r.Hash = ""
	b, err := json.Marshal(r)
	if err != nil {
		panic("audit: marshal record: " + err.Error()) // only strings and maps of strings
	}
	return b
}

// ComputeHash returns the hex SHA-256 of the record's canonical encoding.
func (r Record) ComputeHash() string {
	s := sha256.Sum256(r.canonical())
	return hex.EncodeToString(s[:])
}

func hashLine(line []byte) string {
	s := sha256.Sum256(line)
	return hex.EncodeToString(s[:])
}

// Append adds r to RUNS/audit.log, filling Seq, Prev and Hash, and returns
// the record as written. The log is created with mode perm when absent. The
// caller fills Time, User, Command, Run, Inputs, Model, PolicySHA256 and
// Outputs. Append holds an exclusive lock on the log while it reads the last
// line and writes the new one, and fsyncs the file before returning.
func Append(runsDir string, r Record, perm os.FileMode) (Record, error) {
	path := filepath.Join(runsDir, LogName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return Record{}, fmt.Errorf("open audit log %s: %w", path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return Record{}, fmt.Errorf("lock audit log %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if err := f.Chmod(perm); err != nil {
		return Record{}, fmt.Errorf("set mode of audit log %s: %w", path, err)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return Record{}, fmt.Errorf("read audit log %s: %w", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return Record{}, fmt.Errorf("audit log %s ends in a partial line: run `povrisk audit --verify` and repair it by hand", path)
	}
	r.Seq, r.Prev = 1, ""
	if len(data) > 0 {
		lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
		last := lines[len(lines)-1]
		var prev Record
		if err := json.Unmarshal(last, &prev); err != nil {
			return Record{}, fmt.Errorf("audit log %s: last line (%d) is not a record: %w", path, len(lines), err)
		}
		r.Seq = prev.Seq + 1
		r.Prev = hashLine(last)
	}
	if r.Inputs == nil {
		r.Inputs = map[string]string{}
	}
	if r.Outputs == nil {
		r.Outputs = map[string]string{}
	}
	r.Hash = r.ComputeHash()
	line, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("encode audit record: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return Record{}, fmt.Errorf("append to audit log %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return Record{}, fmt.Errorf("sync audit log %s: %w", path, err)
	}
	return r, nil
}

// Line is one line of the log as read: the raw bytes and the decoded record
// (Err set when the line is not a valid record).
type Line struct {
	N      int // 1-based line number
	Raw    []byte
	Record Record
	Err    error
}

// Read returns every line of RUNS/audit.log; a missing log is no lines.
func Read(runsDir string) ([]Line, error) {
	path := filepath.Join(runsDir, LogName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open audit log %s: %w", path, err)
	}
	defer f.Close()
	var out []Line
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	for n := 1; sc.Scan(); n++ {
		raw := append([]byte(nil), sc.Bytes()...)
		l := Line{N: n, Raw: raw}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l.Record); err != nil {
			l.Err = fmt.Errorf("line %d is not an audit record: %w", n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	return out, nil
}

// Problem is one finding of Verify.
type Problem struct {
	Chain bool   // a problem of the log itself (else of a run directory)
	Seq   int64  // the record concerned (0 when the line could not be read)
	Line  int    // its line number in the log
	Run   string // the run directory concerned, if any
	What  string
}

func (p Problem) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "record seq %d (line %d)", p.Seq, p.Line)
	if p.Run != "" {
		fmt.Fprintf(&b, " run %s", p.Run)
	}
	b.WriteString(": ")
	b.WriteString(p.What)
	return b.String()
}

// Report is the result of Verify.
type Report struct {
	Lines    []Line
	Problems []Problem // the chain or a run directory does not match
	Notes    []string  // not failures: run directories pruned since they were recorded
}

// OK reports whether Verify found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks the chain of RUNS/audit.log (every record's hash, every
// prev, consecutive seq) and every run directory against the last record
// that names it: each file recorded must exist with the recorded checksum,
// and the directory must hold no unrecorded file. A complete run directory
// present on disk without any record is a problem too. A recorded run whose
// directory is gone (pruned) is only noted.
func Verify(runsDir string) (*Report, error) {
	lines, err := Read(runsDir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Lines: lines}
	var prevRaw []byte
	var wantSeq int64 = 1
	lastFor := map[string]int{} // run -> index into lines of its last record
	for i, l := range lines {
		if l.Err != nil {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Line: l.N, What: l.Err.Error()})
			prevRaw = l.Raw
			wantSeq++
			continue
		}
		r := l.Record
		if r.Seq != wantSeq {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: r.Seq, Line: l.N, Run: r.Run, What: fmt.Sprintf("seq %d where %d was expected (a record was removed or inserted)", r.Seq, wantSeq)})
		}
		wantSeq = r.Seq + 1
		if h := r.ComputeHash(); h != r.Hash {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: r.Seq, Line: l.N, Run: r.Run, What: "record altered: its content does not match its hash"})
		}
		want := ""
		if prevRaw != nil {
			want = hashLine(prevRaw)
		}
		if r.Prev != want {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: r.Seq, Line: l.N, Run: r.Run, What: "chain broken: prev does not match the previous line (the previous record was altered, removed or inserted)"})
		}
		prevRaw = l.Raw
		if r.Run != "" {
			lastFor[r.Run] = i
		}
	}
	runs := make([]string, 0, len(lastFor))
	for run := range lastFor {
		runs = append(runs, run)
	}
	sort.Strings(runs)
	for _, run := range runs {
		l := lines[lastFor[run]]
		probs, pruned, err := checkRunDir(filepath.Join(runsDir, run), l.Record.Outputs)
		if err != nil {
			return nil, err
		}
		if pruned {
			rep.Notes = append(rep.Notes, fmt.Sprintf("run %s (record seq %d): directory no longer present", run, l.Record.Seq))
			continue
		}
		for _, p := range probs {
			rep.Problems = append(rep.Problems, Problem{Seq: l.Record.Seq, Line: l.N, Run: run, What: p})
		}
	}
	// Complete run directories that no record names.
	ents, err := os.ReadDir(runsDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list runs directory %s: %w", runsDir, err)
	}
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if _, ok := lastFor[e.Name()]; ok {
			continue
		}
		if _, err := os.Stat(filepath.Join(runsDir, e.Name(), "checksums.sha256")); err == nil {
			rep.Problems = append(rep.Problems, Problem{Run: e.Name(), What: "run directory has no audit record"})
		}
	}
	return rep, nil
}

// checkRunDir compares the files of dir with want (relative path -> sha256).
func checkRunDir(dir string, want map[string]string) (problems []string, pruned bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	got, err := HashTree(dir)
	if err != nil {
		return nil, false, err
	}
	paths := make([]string, 0, len(want))
	for p := range want {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		h, ok := got[p]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("file %s is missing", p))
		case h != want[p]:
			problems = append(problems, fmt.Sprintf("file %s was modified (sha256 %s, recorded %s)", p, h, want[p]))
		}
	}
	extra := make([]string, 0)
	for p := range got {
		if _, ok := want[p]; !ok {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	for _, p := range extra {
		problems = append(problems, fmt.Sprintf("file %s is not in the record", p))
	}
	return problems, false, nil
}

// HashTree returns the hex SHA-256 of every regular file under dir, keyed by
// its slash-separated path relative to dir.
func HashTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		h, err := HashFile(path)
		if err != nil {
			return err
		}
		out[filepath.ToSlash(rel)] = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash files under %s: %w", dir, err)
	}
	return out, nil
}

// HashFile returns the hex SHA-256 of the file at path.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
