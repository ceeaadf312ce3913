package rundir

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/povrisk/povrisk/engine/fault"
)

// ChecksumsFile is the name of the checksum list in a run directory.
const ChecksumsFile = "checksums.sha256"

// SummaryFile is the name of the summary in a run directory.
const SummaryFile = "summary.json"

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

// Files lists the regular files under dir, as slash-separated paths
// relative to dir, sorted. Anything else (a symlink, a device) is an
// error: a run directory holds files and directories only.
func Files(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", filepath.ToSlash(rel))
		}
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list files under %s: %w", dir, err)
	}
	slices.Sort(out)
	return out, nil
}

// Sums returns the SHA-256 of every file under dir, by relative path.
func Sums(dir string) (map[string]string, error) {
	files, err := Files(dir)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(files))
	for _, rel := range files {
		h, err := HashFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		out[rel] = h
	}
	return out, nil
}

// encodeChecksums writes "sha256  path" lines sorted by path.
func encodeChecksums(w io.Writer, sums map[string]string) error {
	paths := make([]string, 0, len(sums))
	for k := range sums {
		paths = append(paths, k)
	}
	slices.Sort(paths)
	for _, k := range paths {
		if _, err := fmt.Fprintf(w, "%s  %s\n", sums[k], k); err != nil {
			return err
		}
	}
	return nil
}

// maxChecksumsBytes bounds checksums.sha256: a run has a few hundred files.
const maxChecksumsBytes = 16 << 20

// ParseChecksums reads a checksums.sha256 list: "sha256  path" lines
// (a leading "*" on the path, as sha256sum -b writes, is accepted). A
// path that is absolute, climbs out with "..", or appears twice, and a
// sum that is not 64 hex digits are errors. It never panics.
func ParseChecksums(b []byte) (map[string]string, error) {
	if len(b) > maxChecksumsBytes {
		return nil, fmt.Errorf("checksums.sha256 is %d bytes, more than a run directory's list can be", len(b))
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxChecksumsBytes)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		sum, p, ok := strings.Cut(line, "  ")
		p = strings.TrimPrefix(p, "*")
		if _, err := hex.DecodeString(sum); !ok || err != nil || len(sum) != 64 || p == "" {
			return nil, fmt.Errorf("checksums.sha256 line %d is not \"sha256  path\"", n)
		}
		if !fs.ValidPath(p) {
			return nil, fmt.Errorf("checksums.sha256 line %d: path %q is not inside the run directory", n, p)
		}
		if _, dup := out[p]; dup {
			return nil, fmt.Errorf("checksums.sha256 line %d: %s is listed twice", n, p)
		}
		out[p] = strings.ToLower(sum)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read checksums.sha256: %w", err)
	}
	return out, nil
}

// errIncomplete is wrapped by every error of Verify and Read that says
// the run directory is incomplete or altered (of kind fault.Tampered).
var errIncomplete = errors.New("incomplete or altered run directory")

// IsIncomplete reports whether err says a run directory is incomplete or
// altered (rather than unreadable for another reason).
func IsIncomplete(err error) bool { return errors.Is(err, errIncomplete) }

func incomplete(dir, format string, args ...any) error {
	return fault.Wrap(fault.Tampered, fmt.Errorf("%s: %s: %w", dir, fmt.Sprintf(format, args...), errIncomplete))
}

// Verify checks that dir is a complete run directory: checksums.sha256
// exists, every file it lists is there with that checksum, and no other
// file is. It returns the checksums, checksums.sha256's own included.
// Errors of an incomplete or altered directory are of kind fault.Tampered.
func Verify(dir string) (map[string]string, error) {
	if strings.HasSuffix(filepath.Base(filepath.Clean(dir)), ".partial") {
		return nil, incomplete(dir, "a .partial directory is a run in progress or a killed one, never a result")
	}
	b, err := os.ReadFile(filepath.Join(dir, ChecksumsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, incomplete(dir, "no %s: the run did not finish", ChecksumsFile)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, ChecksumsFile), err)
	}
	want, err := ParseChecksums(b)
	if err != nil {
		return nil, incomplete(dir, "%v", err)
	}
	files, err := Files(dir)
	if err != nil {
		return nil, incomplete(dir, "%v", err)
	}
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
		if _, ok := want[f]; !ok && f != ChecksumsFile {
			return nil, incomplete(dir, "%s is not in %s", f, ChecksumsFile)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !have[p] {
			return nil, incomplete(dir, "%s listed in %s is missing", p, ChecksumsFile)
		}
		h, err := HashFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			return nil, err
		}
		if h != want[p] {
			return nil, incomplete(dir, "%s does not match %s", p, ChecksumsFile)
		}
	}
	sum := sha256.Sum256(b)
	want[ChecksumsFile] = hex.EncodeToString(sum[:])
	return want, nil
}
