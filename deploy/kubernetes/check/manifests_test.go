// Package check validates the Kubernetes manifests of deploy/kubernetes
// by strict decoding into the Kubernetes API types (k8s.io/api), in a
// module of its own so that the main module does not depend on them.
// Run: cd deploy/kubernetes/check && go test ./...
package check

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// docs reads every YAML document of the manifests directory.
func docs(t *testing.T) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			if strings.TrimSpace(stripComments(d)) == "" {
				continue
			}
			out[fmt.Sprintf("%s#%d", filepath.Base(p), i)] = []byte(d)
		}
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// decoded is every manifest decoded strictly: an unknown or misspelt
// field, a duplicate key or a value of the wrong type fails.
type decoded struct {
	jobs map[string]*batchv1.Job // by metadata.name
	pvcs map[string]*corev1.PersistentVolumeClaim
}

func decodeAll(t *testing.T) decoded {
	t.Helper()
	d := decoded{jobs: map[string]*batchv1.Job{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	for name, b := range docs(t) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(b, &tm); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		switch tm.APIVersion + " " + tm.Kind {
		case "batch/v1 Job":
			var j batchv1.Job
			if err := yaml.UnmarshalStrict(b, &j); err != nil {
				t.Fatalf("%s: not a valid batch/v1 Job: %v", name, err)
			}
			d.jobs[j.Name] = &j
		case "v1 PersistentVolumeClaim":
			var p corev1.PersistentVolumeClaim
			if err := yaml.UnmarshalStrict(b, &p); err != nil {
				t.Fatalf("%s: not a valid v1 PersistentVolumeClaim: %v", name, err)
			}
			d.pvcs[p.Name] = &p
		default:
			t.Fatalf("%s: unexpected kind %q %q", name, tm.APIVersion, tm.Kind)
		}
	}
	return d
}

// TestStrictDecodeRejects: the strict decoder does fail on a misspelt field
// (so that TestManifests can fail).
func TestStrictDecodeRejects(t *testing.T) {
	bad := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  completionsMode: Indexed\n")
	var j batchv1.Job
	if err := yaml.UnmarshalStrict(bad, &j); err == nil {
		t.Fatal("a misspelt field decoded without error")
	}
	dup := []byte("apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec:\n  completions: 2\n  completions: 3\n")
	if err := yaml.UnmarshalStrict(dup, &j); err == nil {
		t.Fatal("a duplicate field decoded without error")
	}
}

func flag(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

func claims(spec corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		}
	}
	return out
}

// TestManifests: the shards are an Indexed Job whose completions are N of
// --shard auto/N and --shards of the merge; both mount the same claim at
// the paths their flags name, for the same night; the merge reads the
// audit key from a Secret; the claim can be mounted by several nodes.
func TestManifests(t *testing.T) {
	d := decodeAll(t)
	var shards, merge *batchv1.Job
	for _, j := range d.jobs {
		switch j.Labels["app.kubernetes.io/component"] {
		case "shards":
			shards = j
		case "merge":
			merge = j
		}
	}
	if shards == nil || merge == nil {
		t.Fatalf("want a shards Job and a merge Job, have %d jobs", len(d.jobs))
	}
	s := shards.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("shards: completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || s.Parallelism == nil || *s.Parallelism < 1 || *s.Parallelism > *s.Completions {
		t.Fatalf("shards: completions %v, parallelism %v", s.Completions, s.Parallelism)
	}
	n := fmt.Sprint(*s.Completions)
	sc, mc := s.Template.Spec.Containers, merge.Spec.Template.Spec.Containers
	if len(sc) != 1 || len(mc) != 1 {
		t.Fatalf("want one container per job")
	}
	if sc[0].Args[0] != "run" || merge.Spec.Template.Spec.Containers[0].Args[0] != "merge" {
		t.Errorf("commands %q and %q, want run and merge", sc[0].Args[0], mc[0].Args[0])
	}
	if v, _ := flag(sc[0].Args, "shard"); v != "auto/"+n {
		t.Errorf("shards: --shard=%q, want auto/%s (completions)", v, n)
	}
	if v, _ := flag(mc[0].Args, "shards"); v != n {
		t.Errorf("merge: --shards=%q, want %s (the shards' completions)", v, n)
	}
	a1, _ := flag(sc[0].Args, "as-of")
	a2, _ := flag(mc[0].Args, "as-of")
	if a1 == "" || a1 != a2 {
		t.Errorf("as-of: shards %q, merge %q", a1, a2)
	}
	r1, _ := flag(sc[0].Args, "runs")
	r2, _ := flag(mc[0].Args, "runs")
	if r1 == "" || r1 != r2 {
		t.Errorf("runs: shards %q, merge %q", r1, r2)
	}
	for _, j := range []*batchv1.Job{shards, merge} {
		ps := j.Spec.Template.Spec
		if ps.RestartPolicy != corev1.RestartPolicyNever && ps.RestartPolicy != corev1.RestartPolicyOnFailure {
			t.Errorf("%s: restartPolicy %q", j.Name, ps.RestartPolicy)
		}
		cl := claims(ps)
		if len(cl) != 1 || d.pvcs[cl[0]] == nil {
			t.Errorf("%s: claims %v, want the one PersistentVolumeClaim of storage.yaml", j.Name, cl)
			continue
		}
		if !slices.Contains(d.pvcs[cl[0]].Spec.AccessModes, corev1.ReadWriteMany) {
			t.Errorf("claim %s is not ReadWriteMany: shards on several nodes cannot share it", cl[0])
		}
		mounted := false
		for _, m := range ps.Containers[0].VolumeMounts {
			if strings.HasPrefix(r1, m.MountPath+"/") {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("%s: the runs directory %s is on no mounted volume", j.Name, r1)
		}
	}
	// The merge's audit key file is on a Secret volume, readable by its owner only.
	var keyPath string
	for _, e := range mc[0].Env {
		if e.Name == "POVRISK_AUDIT_KEY_FILE" {
			keyPath = e.Value
		}
	}
	found := false
	for _, m := range mc[0].VolumeMounts {
		if !strings.HasPrefix(keyPath, m.MountPath+"/") {
			continue
		}
		for _, v := range merge.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil && v.Secret.DefaultMode != nil && *v.Secret.DefaultMode&0o077 == 0 {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("merge: POVRISK_AUDIT_KEY_FILE %q is not on a Secret volume of mode 0400 or stricter", keyPath)
	}
}
