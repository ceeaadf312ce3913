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
	"strconv"
	"strings"
	"syscall"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/civil"
	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// LogName is the audit log's file name inside a runs directory.
const LogName = "audit.log"

// HeadName is the file beside the log that records, under the audit key,
// how many records the log holds and the hash of its last line, so that
// removing the last records is detected.
const HeadName = "audit.head"

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
	// Pruned says that the run directory was removed on purpose (a record
	// appended when it was); Verify then expects it to be absent.
	Pruned bool   `json:"pruned,omitempty"`
	Prev   string `json:"prev"`          // sha256 of the previous line ("" for the first)
	MAC    string `json:"mac,omitempty"` // HMAC-SHA-256 under the audit key of the record without mac and hash
	Hash   string `json:"hash,omitempty"`
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

// macInput is what the MAC covers: the record without mac and hash (seq
// and prev included, so that the chain itself is keyed).
func (r Record) macInput() []byte {
	r.MAC = ""
	return r.canonical()
}

const (
	recordDomain = "povrisk audit record v1"
	headDomain   = "povrisk audit head v1"
)

// ComputeHash returns the hex SHA-256 of the record's canonical encoding.
func (r Record) ComputeHash() string {
	s := sha256.Sum256(r.canonical())
	return hex.EncodeToString(s[:])
}

// ComputeMAC returns the record's MAC under key.
func (r Record) ComputeMAC(key *Key) string { return key.mac([]byte(recordDomain), r.macInput()) }

func hashLine(line []byte) string {
	s := sha256.Sum256(line)
	return hex.EncodeToString(s[:])
}

// Head is the content of audit.head: the number of records of the log
// and the SHA-256 of its last line, under the audit key.
type Head struct {
	Seq  int64  `json:"seq"`
	Line string `json:"line_sha256"`
	MAC  string `json:"mac"`
}

func (h Head) macInput() [][]byte {
	return [][]byte{[]byte(headDomain), []byte(strconv.FormatInt(h.Seq, 10)), []byte(h.Line)}
}

// Append adds r to RUNS/audit.log, filling Seq, Prev, MAC (under key) and
// Hash, rewrites RUNS/audit.head, and returns the record as written. The
// log is created with mode perm when absent. The caller fills Time, User,
// Command, Run, Inputs, Model, PolicySHA256 and Outputs. Append holds an
// exclusive lock on the log while it reads the last line and writes the
// new one, and fsyncs the log and the head before returning.
func Append(runsDir string, key *Key, r Record, perm os.FileMode) (Record, error) {
	if key == nil {
		return Record{}, fault.Wrap(fault.Usage, errors.New("append to audit log: no audit key (see audit.LoadKey)"))
	}
	path := filepath.Join(runsDir, LogName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return Record{}, fault.Wrap(fault.Write, fmt.Errorf("open audit log %s: %w", path, err))
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return Record{}, fmt.Errorf("lock audit log %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	if err := f.Chmod(perm); err != nil {
		return Record{}, fault.Wrap(fault.Write, fmt.Errorf("set mode of audit log %s: %w", path, err))
	}
	var lines [][]byte
	if lines, err = linesOf(f, path); err != nil {
		return Record{}, err
	}
	if err := checkEnd(runsDir, key, lines); err != nil {
		return Record{}, err
	}
	r.Seq, r.Prev = 1, ""
	if n := len(lines); n > 0 {
		var prev Record
		if err := json.Unmarshal(lines[n-1], &prev); err != nil {
			return Record{}, fault.Wrap(fault.Tampered, fmt.Errorf("audit log %s: last line (%d) is not a record: %w", path, n, err))
		}
		r.Seq, r.Prev = prev.Seq+1, hashLine(lines[n-1])
	}
	if r.Inputs == nil {
		r.Inputs = map[string]string{}
	}
	if r.Outputs == nil {
		r.Outputs = map[string]string{}
	}
	r.MAC, r.Hash = "", ""
	r.MAC = r.ComputeMAC(key)
	r.Hash = r.ComputeHash()
	line, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("encode audit record: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		return Record{}, fault.Wrap(fault.Write, fmt.Errorf("append to audit log %s: %w", path, err))
	}
	if err := f.Sync(); err != nil {
		return Record{}, fault.Wrap(fault.Write, fmt.Errorf("sync audit log %s: %w", path, err))
	}
	h := Head{Seq: r.Seq, Line: hashLine(line)}
	h.MAC = key.mac(h.macInput()...)
	hb, _ := json.Marshal(h)
	if err := atomicfile.WriteFile(filepath.Join(runsDir, HeadName), append(hb, '\n'), perm); err != nil {
		return Record{}, fmt.Errorf("record %d is in the audit log but its head is not updated (audit --verify will note it; the next run repairs it): %w", r.Seq, err)
	}
	return r, nil
}

// CheckAppend reports whether Append would refuse the log of runsDir under
// key (checkEnd): a night calls it before writing anything, so that a
// tampered log or a foreign key stops it before its run directory exists.
// A missing log is fine (the first night).
func CheckAppend(runsDir string, key *Key) error {
	if key == nil {
		return fault.Wrap(fault.Usage, errors.New("audit log: no audit key (see audit.LoadKey)"))
	}
	path := filepath.Join(runsDir, LogName)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return checkEnd(runsDir, key, nil)
	}
	if err != nil {
		return fmt.Errorf("open audit log %s: %w", path, err)
	}
	defer f.Close()
	lines, err := linesOf(f, path)
	if err != nil {
		return err
	}
	return checkEnd(runsDir, key, lines)
}

// linesOf reads the log open in f and returns its lines without their
// newlines (none for an empty log); a log that ends in a partial line is
// refused.
func linesOf(f *os.File, path string) ([][]byte, error) {
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return nil, fmt.Errorf("read audit log %s: %w", path, err)
	}
	if len(data) == 0 {
		return nil, nil
	}
	if data[len(data)-1] != '\n' {
		return nil, fault.Wrap(fault.Tampered, fmt.Errorf("audit log %s ends in a partial line: run `povrisk audit --verify` and repair it by hand", path))
	}
	return bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")), nil
}

// checkEnd refuses to append to a log whose end does not match its head,
// or whose last record or head does not verify under key: appending would
// otherwise launder a removed last record (the new record and head would
// chain on the shortened log) or mix two audit keys in one log. The head
// may be one record behind (a run stopped between its record and the
// head), and may be missing only while the log holds a single record (the
// first run stopped before its head).
func checkEnd(runsDir string, key *Key, lines [][]byte) error {
	hp := filepath.Join(runsDir, HeadName)
	refuse := func(format string, a ...any) error {
		return fault.Wrap(fault.Tampered, fmt.Errorf("audit log %s: "+format+"; nothing was appended: run `povrisk audit --verify --runs %s` with the key that wrote the log",
			append(append([]any{filepath.Join(runsDir, LogName)}, a...), runsDir)...))
	}
	n := int64(len(lines))
	if n > 0 {
		var last Record
		if err := json.Unmarshal(lines[n-1], &last); err != nil {
			return refuse("its last line (%d) is not a record: the log was cut or altered", n)
		}
		if !key.verify(last.MAC, []byte(recordDomain), last.macInput()) {
			return refuse("its last record (line %d) does not verify under this audit key: the log was written with another key, or altered", n)
		}
	}
	b, err := os.ReadFile(hp)
	if errors.Is(err, os.ErrNotExist) {
		if n > 1 {
			return refuse("%s is missing while the log holds %d records: records at its end may have been removed", HeadName, n)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", hp, err)
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil || !key.verify(h.MAC, h.macInput()...) {
		return refuse("%s does not verify under this audit key: it was written with another key, or altered", HeadName)
	}
	switch {
	case h.Seq == n && n > 0 && h.Line == hashLine(lines[n-1]):
	case h.Seq == n-1 && (n == 1 || h.Line == hashLine(lines[n-2])):
	default:
		return refuse("its head names %d records and the log holds %d that do not match it: records were removed or the log rewritten", h.Seq, n)
	}
	return nil
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
	Problems []Problem // the log, its head or a run directory does not match
	Notes    []string  // not failures: run directories pruned on record, a head one record behind
}

// OK reports whether Verify found no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks RUNS/audit.log under key: every record's MAC, hash, prev
// and consecutive seq; the head (audit.head: the record count and the last
// line, under key); and every run directory against the last record that
// names it: each file recorded must exist with the recorded checksum, and
// the directory must hold no unrecorded file. A run directory that is
// gone is a problem unless its last record says it was pruned; a complete
// run directory without any record is a problem too. A missing runs
// directory, or one without any record, is a problem: there is nothing
// that could be verified. Problems are for the command to report (exit 6);
// the error is for failures to read.
func Verify(runsDir string, key *Key) (*Report, error) {
	if key == nil {
		return nil, fault.Wrap(fault.Usage, errors.New("verify audit log: no audit key (see audit.LoadKey)"))
	}
	rep := &Report{}
	if st, err := os.Stat(runsDir); err != nil || !st.IsDir() {
		rep.Problems = append(rep.Problems, Problem{Chain: true, What: fmt.Sprintf("runs directory %s does not exist or is not a directory: nothing to verify (check --runs)", runsDir)})
		return rep, nil
	}
	lines, err := Read(runsDir)
	if err != nil {
		return nil, err
	}
	rep.Lines = lines
	checkChain(rep, lines, key)
	if err := checkHead(rep, runsDir, lines, key); err != nil {
		return nil, err
	}
	if err := checkRuns(rep, runsDir, lines); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkChain checks every line's seq, MAC, hash and prev.
func checkChain(rep *Report, lines []Line, key *Key) {
	var prevRaw []byte
	var wantSeq int64 = 1
	for _, l := range lines {
		if l.Err != nil {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Line: l.N, What: l.Err.Error()})
			prevRaw = l.Raw
			wantSeq++
			continue
		}
		r := l.Record
		bad := func(what string) {
			rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: r.Seq, Line: l.N, Run: r.Run, What: what})
		}
		if r.Seq != wantSeq {
			bad(fmt.Sprintf("seq %d where %d was expected (a record was removed or inserted)", r.Seq, wantSeq))
		}
		wantSeq = r.Seq + 1
		switch {
		case r.MAC == "":
			bad("record has no MAC: written before records were keyed, or forged; it cannot be trusted")
		case !key.verify(r.MAC, []byte(recordDomain), r.macInput()):
			bad("MAC does not verify: the record was altered or forged without the audit key (or the key given is not the one that wrote it)")
		}
		if h := r.ComputeHash(); h != r.Hash {
			bad("record altered: its content does not match its hash")
		}
		want := ""
		if prevRaw != nil {
			want = hashLine(prevRaw)
		}
		if r.Prev != want {
			bad("chain broken: prev does not match the previous line (the previous record was altered, removed or inserted)")
		}
		prevRaw = l.Raw
	}
}

// checkHead compares audit.head with the end of the log.
func checkHead(rep *Report, runsDir string, lines []Line, key *Key) error {
	path := filepath.Join(runsDir, HeadName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		what := fmt.Sprintf("no audit records in %s: nothing to verify (a runs directory that has had a run holds %s and %s)", runsDir, LogName, HeadName)
		if len(lines) > 0 {
			what = HeadName + " is missing: records at the end of the log may have been removed"
		}
		rep.Problems = append(rep.Problems, Problem{Chain: true, What: what})
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil || !key.verify(h.MAC, h.macInput()...) {
		rep.Problems = append(rep.Problems, Problem{Chain: true, What: HeadName + " is altered or forged: its MAC does not verify under the audit key"})
		return nil
	}
	n := int64(len(lines))
	last := func(k int64) string { return hashLine(lines[k-1].Raw) }
	switch {
	case h.Seq == n && n > 0 && h.Line == last(n):
	case h.Seq == n-1 && (n == 1 || h.Line == last(n-1)):
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s is one record behind the log (seq %d of %d): a run stopped between its record and the head; the next run brings it up to date", HeadName, h.Seq, n))
	case h.Seq > n && n > 0 && h.Line == last(n):
		rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: n, What: fmt.Sprintf("the log holds %d records, its head %d: records before the last were removed", n, h.Seq)})
	case h.Seq > n:
		rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: n, What: fmt.Sprintf("the log holds %d records, its head %d: the last records were removed", n, h.Seq)})
	default:
		rep.Problems = append(rep.Problems, Problem{Chain: true, Seq: h.Seq, What: fmt.Sprintf("%s does not match the log (head: seq %d; log: %d records): the log was rewritten", HeadName, h.Seq, n)})
	}
	return nil
}

// checkRuns checks every run directory against the last record naming it,
// and that no complete run directory lacks a record.
func checkRuns(rep *Report, runsDir string, lines []Line) error {
	lastFor := map[string]int{} // run -> index into lines of its last record
	for i, l := range lines {
		if l.Err == nil && l.Record.Run != "" {
			lastFor[l.Record.Run] = i
		}
	}
	runs := make([]string, 0, len(lastFor))
	for run := range lastFor {
		runs = append(runs, run)
	}
	sort.Strings(runs)
	for _, run := range runs {
		l := lines[lastFor[run]]
		if _, err := civil.Parse(run); err != nil {
			// A record's run names a directory of the runs directory: one
			// that is not a date ("../..") is never followed outside it.
			rep.Problems = append(rep.Problems, Problem{Seq: l.Record.Seq, Line: lastFor[run] + 1, Run: run, What: "the record's run is not a date (YYYY-MM-DD): the record was altered"})
			continue
		}
		probs, gone, err := checkRunDir(filepath.Join(runsDir, run), l.Record.Outputs)
		if err != nil {
			return err
		}
		switch {
		case l.Record.Pruned && gone:
			rep.Notes = append(rep.Notes, fmt.Sprintf("run %s (record seq %d): pruned on record", run, l.Record.Seq))
			continue
		case l.Record.Pruned:
			probs = []string{"run directory is present although its last record says it was pruned"}
		case gone:
			probs = []string{"run directory is missing: it was deleted or moved (prune runs on record)"}
		}
		for _, p := range probs {
			rep.Problems = append(rep.Problems, Problem{Seq: l.Record.Seq, Line: l.N, Run: run, What: p})
		}
	}
	ents, err := os.ReadDir(runsDir)
	if err != nil {
		return fmt.Errorf("list runs directory %s: %w", runsDir, err)
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
	return nil
}

// checkRunDir compares the files of dir with want (relative path -> sha256).
func checkRunDir(dir string, want map[string]string) (problems []string, pruned bool, err error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, true, nil
	}
	got, err := rundir.Sums(dir)
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
