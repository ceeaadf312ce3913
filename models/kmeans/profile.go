package kmeans

import "strings"

// Label is what the caller knows of a feature: a short name for a cluster
// led by it (e.g. "medical_burden"), its Chinese wording (医疗支出负担) and
// the official risk type code it points to (e.g. "illness").
type Label struct {
	Name, NameZh, RiskType string
}

// Profile is a named cluster.
type Profile struct {
	Cluster  int     `json:"cluster"`
	Name     string  `json:"name"`
	NameZh   string  `json:"name_zh"`
	RiskType string  `json:"risk_type"`
	Traits   []Trait `json:"traits"` // the labelled traits that gave the name, strongest first
}

// MinProfileZ is the centre deviation (in standard deviations) a trait needs
// to name a cluster.
const MinProfileZ = 0.5

// FallbackLabel names a cluster without a strong labelled trait.
func FallbackLabel() Label { return Label{Name: "mixed", NameZh: "综合风险", RiskType: "other"} }

// Profile names cluster c after its strongest positive traits: the
// features with a label in labels and a centre Z >= MinProfileZ, by Z
// descending (ties by column order). The name, Chinese name and risk type
// are those of the strongest; when the second strongest has a different
// name it is appended after "+" (e.g. "medical_burden+job_loss"). A cluster
// with no such trait gets FallbackLabel(). Clusters of one model may share a name;
// callers that need distinct names add the cluster number.
func (m *Model) Profile(c int, labels map[string]Label) Profile {
	p := Profile{Cluster: c}
	for _, t := range m.Distinguishing(c, 0) {
		if t.Z < MinProfileZ {
			continue
		}
		if _, ok := labels[t.Feature]; ok {
			p.Traits = append(p.Traits, t)
		}
	}
	if len(p.Traits) == 0 {
		f := FallbackLabel()
		p.Name, p.NameZh, p.RiskType = f.Name, f.NameZh, f.RiskType
		return p
	}
	// Distinguishing sorts by |Z|; positive traits only remain, so the
	// order is by Z descending.
	first := labels[p.Traits[0].Feature]
	names, zh := []string{first.Name}, []string{first.NameZh}
	for _, t := range p.Traits[1:] {
		l := labels[t.Feature]
		if l.Name != first.Name {
			names, zh = append(names, l.Name), append(zh, l.NameZh)
			break
		}
	}
	p.Name, p.NameZh, p.RiskType = strings.Join(names, "+"), strings.Join(zh, "+"), first.RiskType
	if len(p.Traits) > 3 {
		p.Traits = p.Traits[:3]
	}
	return p
}
