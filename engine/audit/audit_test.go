package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/povrisk/povrisk/engine/fault"
	"github.com/povrisk/povrisk/engine/rundir"
)

// writeRun creates RUNS/<name> with the given files and returns their
// checksums computed here with crypto/sha256 directly.
func writeRun(t testing.TB, runs, name string, files map[string]string) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for rel, content := range files {
		p := filepath.Join(runs, name, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256([]byte(content))
		sums[rel] = hex.EncodeToString(s[:])
	}
	return sums
}

// testKey is the audit key of the fixtures.
func testKey(t testing.TB) *Key {
	k, err := NewKey([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture writes three runs and their records.
func fixture(t testing.TB) string {
	t.Helper()
	runs := t.TempDir()
	for i, name := range []string{"2025-10-31", "2025-11-30", "2025-12-31"} {
		sums := writeRun(t, runs, name, map[string]string{
			"ranked.csv":            "household_id\nH" + name + "\n",
			"worklists/520123.xlsx": strings.Repeat("x", i+1),
			"checksums.sha256":      "sums " + name,
		})
		_, err := Append(runs, testKey(t), Record{Time: "2026-01-0" + string(rune('1'+i)) + "T02:00:00Z", User: "cadre", Command: "povrisk run --as-of " + name,
			Run: name, Inputs: map[string]string{"policy.toml": "ab"}, Model: "m1", PolicySHA256: "ab", Outputs: sums}, 0o600)
		if err != nil {
			t.Fatal(err)
		}
	}
	return runs
}

func TestAppendChains(t *testing.T) {
	runs := fixture(t)
	data, err := os.ReadFile(filepath.Join(runs, LogName))
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3", len(lines))
	}
	prev := ""
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if got := m["seq"].(float64); got != float64(i+1) {
			t.Errorf("line %d: seq %v", i+1, got)
		}
		if m["prev"] != prev {
			t.Errorf("line %d: prev %v, want %s", i+1, m["prev"], prev)
		}
		// The hash is the sha256 of the line with its hash field removed.
		h := m["hash"].(string)
		without := bytes.Replace(l, []byte(`,"hash":"`+h+`"`), nil, 1)
		s := sha256.Sum256(without)
		if hex.EncodeToString(s[:]) != h {
			t.Errorf("line %d: hash %s is not the sha256 of the record without it", i+1, h)
		}
		s = sha256.Sum256(l)
		prev = hex.EncodeToString(s[:])
	}
	st, err := os.Stat(filepath.Join(runs, LogName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
}

// TestVerify is one table of tamper cases over one fixture (each a named
// edit of the log or the run directories, and the problems it must give):
// long because the table is, each case is a few lines.
func TestVerify(t *testing.T) {
	// edit alters the log or the run directories of a fresh fixture.
	type edit func(t *testing.T, runs string)
	rewriteLine := func(n int, f func(line string) string) edit {
		return func(t *testing.T, runs string) {
			p := filepath.Join(runs, LogName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if nl := f(lines[n-1]); nl != "" {
				lines[n-1] = nl
			} else {
				lines = append(lines[:n-1], lines[n:]...) // remove the line
			}
			out := strings.Join(lines, "\n")
			if out != "" {
				out += "\n"
			}
			if err := os.WriteFile(p, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	rehash := func(line string) string { // alter the model and recompute the record's own hash
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			panic(err)
		}
		r.Model = "m2"
		r.Hash = r.ComputeHash()
		b, _ := json.Marshal(r)
		return string(b)
	}
	other, err := NewKey([]byte("another key, not the operator's one"))
	if err != nil {
		t.Fatal(err)
	}
	// forge edits ranked.csv of the last run and recomputes everything an
	// attacker without the key can: the file's checksum in the record, the
	// record's hash, its MAC and the head under the attacker's own key.
	forge := func(t *testing.T, runs string) {
		p := filepath.Join(runs, "2025-12-31", "ranked.csv")
		if err := os.WriteFile(p, []byte("household_id\nFORGED\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		sum, err := rundir.HashFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var last string
		rewriteLine(3, func(l string) string {
			var r Record
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				panic(err)
			}
			r.Outputs["ranked.csv"] = sum
			r.MAC, r.Hash = "", ""
			r.MAC = r.ComputeMAC(other)
			r.Hash = r.ComputeHash()
			b, _ := json.Marshal(r)
			last = string(b)
			return last
		})(t, runs)
		h := Head{Seq: 3, Line: hashLine([]byte(last))}
		h.MAC = other.mac(h.macInput()...)
		hb, _ := json.Marshal(h)
		if err := os.WriteFile(filepath.Join(runs, HeadName), hb, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		edit  edit
		want  []string // "seq N: substring" per problem, in order
		notes int
	}{
		{"intact", func(*testing.T, string) {}, nil, 0},
		{"record altered", rewriteLine(2, func(l string) string { return strings.Replace(l, `"user":"cadre"`, `"user":"other"`, 1) }),
			[]string{"seq 2: MAC does not verify", "seq 2: record altered", "seq 3: chain broken"}, 0},
		{"record altered and rehashed", rewriteLine(2, rehash), []string{"seq 2: MAC does not verify", "seq 3: chain broken"}, 0},
		{"output checksum altered", rewriteLine(3, func(l string) string { return strings.Replace(l, `"ranked.csv":"`, `"ranked.csv":"0`, 1) }),
			[]string{"seq 3: MAC does not verify", "seq 3: record altered", "seq 3: audit.head does not match the log", "seq 3: file ranked.csv was modified"}, 0},
		{"full forge without the key", forge, []string{"seq 3: MAC does not verify", "seq 0: audit.head is altered or forged"}, 0},
		{"record removed", rewriteLine(2, func(string) string { return "" }), []string{"seq 3: seq 3 where 2 was expected", "seq 3: chain broken",
			"seq 2: the log holds 2 records, its head 3: records before the last were removed", "seq 0: run directory has no audit record"}, 0},
		{"last record removed", rewriteLine(3, func(string) string { return "" }), []string{"seq 2: the log holds 2 records, its head 3: the last records were removed",
			"seq 0: run directory has no audit record"}, 0},
		{"records reordered", func(t *testing.T, runs string) {
			p := filepath.Join(runs, LogName)
			data, _ := os.ReadFile(p)
			l := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			l[1], l[2] = l[2], l[1]
			os.WriteFile(p, []byte(strings.Join(l, "\n")+"\n"), 0o600)
		}, []string{"seq 3: seq 3 where 2 was expected", "seq 3: chain broken", "seq 2: seq 2 where 4 was expected", "seq 2: chain broken", "seq 3: audit.head does not match the log"}, 0},
		{"head removed", func(t *testing.T, runs string) { os.Remove(filepath.Join(runs, HeadName)) }, []string{"seq 0: audit.head is missing"}, 0},
		{"log removed", func(t *testing.T, runs string) { os.Remove(filepath.Join(runs, LogName)) }, []string{"seq 0: the log holds 0 records, its head 3: the last records were removed",
			"seq 0: run directory has no audit record", "seq 0: run directory has no audit record", "seq 0: run directory has no audit record"}, 0},
		{"file modified", func(t *testing.T, runs string) {
			if err := os.WriteFile(filepath.Join(runs, "2025-11-30", "ranked.csv"), []byte("household_id\nX\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 2: file ranked.csv was modified"}, 0},
		{"file removed", func(t *testing.T, runs string) {
			if err := os.Remove(filepath.Join(runs, "2025-12-31", "worklists", "520123.xlsx")); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 3: file worklists/520123.xlsx is missing"}, 0},
		{"file added", func(t *testing.T, runs string) {
			if err := os.WriteFile(filepath.Join(runs, "2025-10-31", "extra.csv"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 1: file extra.csv is not in the record"}, 0},
		// A run directory deleted is detected (issue 11; it used to be a
		// note): only a prune on record is a note.
		{"run deleted", func(t *testing.T, runs string) {
			if err := os.RemoveAll(filepath.Join(runs, "2025-10-31")); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 1: run directory is missing"}, 0},
		{"run pruned", func(t *testing.T, runs string) {
			if _, err := Append(runs, testKey(t), Record{Run: "2025-10-31", Command: "prune", Pruned: true}, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(filepath.Join(runs, "2025-10-31")); err != nil {
				t.Fatal(err)
			}
		}, nil, 1},
		{"pruned on record but present", func(t *testing.T, runs string) {
			if _, err := Append(runs, testKey(t), Record{Run: "2025-10-31", Command: "prune", Pruned: true}, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"seq 4: run directory is present although"}, 0},
		{"unrecorded run", func(t *testing.T, runs string) {
			writeRun(t, runs, "2026-01-31", map[string]string{"checksums.sha256": "x"})
		}, []string{"seq 0: run directory has no audit record"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := fixture(t)
			c.edit(t, runs)
			rep, err := Verify(runs, testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range rep.Problems {
				got = append(got, "seq "+strconv.FormatInt(p.Seq, 10)+": "+p.What)
				dirProblem := strings.HasPrefix(p.What, "file ") || strings.HasPrefix(p.What, "run directory")
				if p.Chain == dirProblem {
					t.Errorf("%q: Chain = %v", p.What, p.Chain)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems:\n%s\nwant %d:\n%s", strings.Join(got, "\n"), len(c.want), strings.Join(c.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], c.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], c.want[i])
				}
			}
			if rep.OK() != (len(c.want) == 0) {
				t.Errorf("OK() = %v", rep.OK())
			}
			if len(rep.Notes) != c.notes {
				t.Errorf("notes %v, want %d", rep.Notes, c.notes)
			}
		})
	}
}

func TestAppendRefusesPartialLine(t *testing.T) {
	runs := fixture(t)
	f, err := os.OpenFile(filepath.Join(runs, LogName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":4,"ti`)
	f.Close()
	_, err = Append(runs, testKey(t), Record{Run: "x"}, 0o600)
	if err == nil || !strings.Contains(err.Error(), "partial line") {
		t.Fatalf("Append after a torn line: err = %v, want partial line", err)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	runs := fixture(t)
	other, _ := NewKey([]byte("another key, not the operator's one"))
	rep, err := Verify(runs, other)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.What[:min(len(p.What), 30)])
	}
	want := []string{"MAC does not verify: the recor", "MAC does not verify: the recor", "MAC does not verify: the recor", "audit.head is altered or forge"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("problems with another key:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestVerifyNothing: a missing or empty runs directory is a problem, not
// "0 records, chain intact" (issue 12).
func TestVerifyNothing(t *testing.T) {
	empty := t.TempDir()
	for _, tc := range []struct{ name, dir, want string }{
		{"missing", filepath.Join(empty, "runs-typo"), "does not exist"},
		{"empty", empty, "no audit records in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Verify(tc.dir, testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].What, tc.want) || !rep.Problems[0].Chain {
				t.Errorf("problems %v, want one chain problem containing %q", rep.Problems, tc.want)
			}
		})
	}
}

// TestHeadBehind: a run stopped between its record and the head leaves
// the head one record behind; that is a note, and the next Append repairs it.
func TestHeadBehind(t *testing.T) {
	runs := fixture(t)
	key := testKey(t)
	head, _ := os.ReadFile(filepath.Join(runs, HeadName))
	if _, err := Append(runs, key, Record{Run: "2025-12-31", Outputs: nil}, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(runs, HeadName), head, 0o600) // as if the head write was lost
	rep, err := Verify(runs, key)
	if err != nil {
		t.Fatal(err)
	}
	// The fourth record names 2025-12-31 with no outputs: its files are unrecorded.
	var heads int
	for _, p := range rep.Problems {
		if strings.Contains(p.What, HeadName) {
			heads++
		}
	}
	if heads != 0 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "one record behind") {
		t.Errorf("head one behind: problems %v notes %v; want a note only", rep.Problems, rep.Notes)
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "audit.key")
	if err := NewKeyFile(good); err != nil {
		t.Fatal(err)
	}
	if err := NewKeyFile(good); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("NewKeyFile over an existing key: %v", err)
	}
	k, err := LoadKey(good)
	if err != nil || len(k.k) != 64 {
		t.Fatalf("LoadKey of a new key file: %v", err)
	}
	readable := filepath.Join(dir, "readable.key")
	os.WriteFile(readable, bytes.Repeat([]byte("k"), 40), 0o640)
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("0123456789abcdef\n"), 0o600)
	t.Setenv(KeyEnv, good)
	for _, tc := range []struct{ name, path, want string }{
		{"group readable", readable, "accessible by group or others"},
		{"short", short, "key has 16 bytes, want at least 32"},
		{"missing", filepath.Join(dir, "none.key"), "no audit key at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKey(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || fault.Of(err) != fault.Usage {
				t.Errorf("LoadKey(%s): %v (kind %v), want fault.Usage containing %q", tc.path, err, fault.Of(err), tc.want)
			}
		})
	}
	if k2, err := LoadKey(""); err != nil || !bytes.Equal(k2.k, k.k) {
		t.Errorf("LoadKey(\"\") with %s set: %v", KeyEnv, err)
	}
}

// TestAppendRefusesBadEnd: Append must not chain on a log whose end was
// removed or was written with another key; otherwise the next night
// launders a removed last record (with its run directory) into a log that
// verifies (found by the issue 11 review: remove record 2 and its run
// directory, run another night, audit --verify said OK). Each case is
// refused as Tampered and leaves the log and head byte for byte as they were.
func TestAppendRefusesBadEnd(t *testing.T) {
	dropLast := func(k int) func(t *testing.T, runs string) {
		return func(t *testing.T, runs string) {
			p := filepath.Join(runs, LogName)
			data, _ := os.ReadFile(p)
			lines := strings.SplitAfter(string(data), "\n") // the last element is ""
			if err := os.WriteFile(p, []byte(strings.Join(lines[:len(lines)-1-k], "")), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	logOf := func(runs string) string { b, _ := os.ReadFile(filepath.Join(runs, LogName)); return string(b) }
	headOf := func(runs string) string { b, _ := os.ReadFile(filepath.Join(runs, HeadName)); return string(b) }
	other, _ := NewKey([]byte("another key, not the operator's one"))
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, runs string)
		key    *Key
		want   string
	}{
		{"last record removed", dropLast(1), nil, "head names 3 records and the log holds 2"},
		{"two last records removed", dropLast(2), nil, "head names 3 records and the log holds 1"},
		{"log emptied", func(t *testing.T, runs string) { os.WriteFile(filepath.Join(runs, LogName), nil, 0o600) }, nil, "head names 3 records and the log holds 0"},
		{"head removed", func(t *testing.T, runs string) { os.Remove(filepath.Join(runs, HeadName)) }, nil, "audit.head is missing while the log holds 3 records"},
		{"head forged", func(t *testing.T, runs string) {
			os.WriteFile(filepath.Join(runs, HeadName), []byte(`{"seq":2,"line_sha256":"00","mac":"00"}`+"\n"), 0o600)
		}, nil, "audit.head does not verify under this audit key"},
		{"another audit key", func(*testing.T, string) {}, other, "last record (line 3) does not verify under this audit key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runs := fixture(t)
			tc.damage(t, runs)
			key := tc.key
			if key == nil {
				key = testKey(t)
			}
			log, head := logOf(runs), headOf(runs)
			_, err := Append(runs, key, Record{Run: "2026-01-31"}, 0o600)
			if fault.Of(err) != fault.Tampered || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "nothing was appended") {
				t.Fatalf("Append: err = %v (kind %v), want Tampered containing %q", err, fault.Of(err), tc.want)
			}
			if logOf(runs) != log || headOf(runs) != head {
				t.Error("a refused Append changed the log or its head")
			}
		})
	}
}

// TestAppendAfterHeadBehind: the head one record behind (a run stopped
// between its record and its head) and the head missing after the first
// record are the two ends a crash leaves; Append continues the chain and
// the log verifies afterwards.
func TestAppendAfterHeadBehind(t *testing.T) {
	key := testKey(t)
	runs := fixture(t)
	head, _ := os.ReadFile(filepath.Join(runs, HeadName))
	if _, err := Append(runs, key, Record{Run: "2025-12-31"}, 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(runs, HeadName), head, 0o600)
	r, err := Append(runs, key, Record{Run: "2025-12-31"}, 0o600)
	if err != nil || r.Seq != 5 {
		t.Fatalf("Append with the head one behind: seq %d, err %v; want seq 5", r.Seq, err)
	}
	first := t.TempDir()
	if _, err := Append(first, key, Record{Run: "2025-10-31"}, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(first, HeadName))
	if r, err := Append(first, key, Record{Run: "2025-11-30"}, 0o600); err != nil || r.Seq != 2 {
		t.Fatalf("Append with the first head lost: seq %d, err %v; want seq 2", r.Seq, err)
	}
	rep, err := Verify(first, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		if p.Chain {
			t.Errorf("chain problem after the repaired head: %s", p.What)
		}
	}
}

// TestCheckAppend: CheckAppend refuses what Append refuses, without
// writing, and accepts a runs directory without a log.
func TestCheckAppend(t *testing.T) {
	if err := CheckAppend(t.TempDir(), testKey(t)); err != nil {
		t.Errorf("no log: %v", err)
	}
	runs := fixture(t)
	if err := CheckAppend(runs, testKey(t)); err != nil {
		t.Errorf("intact log: %v", err)
	}
	other, _ := NewKey([]byte("another key, not the operator's one"))
	if err := CheckAppend(runs, other); fault.Of(err) != fault.Tampered {
		t.Errorf("another key: %v, want tampered", err)
	}
	// A junk last line must be refused before the night writes anything
	// (Append would refuse it only after the run directory is committed).
	junk := t.TempDir()
	b, _ := os.ReadFile(filepath.Join(runs, LogName))
	os.WriteFile(filepath.Join(junk, LogName), append(b, []byte("{not a record\n")...), 0o600)
	hb, _ := os.ReadFile(filepath.Join(runs, HeadName))
	os.WriteFile(filepath.Join(junk, HeadName), hb, 0o600)
	if err := CheckAppend(junk, testKey(t)); fault.Of(err) != fault.Tampered || !strings.Contains(err.Error(), "is not a record") {
		t.Errorf("junk last line: %v, want tampered", err)
	}
	os.Remove(filepath.Join(runs, HeadName))
	if err := CheckAppend(runs, testKey(t)); fault.Of(err) != fault.Tampered || !strings.Contains(err.Error(), "missing while the log holds 3") {
		t.Errorf("head removed: %v, want tampered", err)
	}
}

// TestVerifyRunNotADate: a record whose run is not a date is a problem,
// and Verify never follows it outside the runs directory.
func TestVerifyRunNotADate(t *testing.T) {
	runs := t.TempDir()
	key := testKey(t)
	if _, err := Append(runs, key, Record{Time: "2026-01-01T00:00:00Z", Run: "../..", Outputs: map[string]string{"x": "00"}}, 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(runs, key)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || strings.Contains(p.What, "is not a date")
	}
	if !found || rep.OK() {
		t.Errorf("problems %v, want the run that is not a date", rep.Problems)
	}
}
