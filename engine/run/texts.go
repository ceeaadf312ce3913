package run

import (
	"math"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/features"
	"github.com/povrisk/povrisk/features/rules"
	"github.com/povrisk/povrisk/models/kmeans"
)

// unit says how a feature's value is written in a reason
// (features.Column.ReasonFormat).
type unit = features.Format

const (
	uCount = features.FormatCount // a whole number
	uYuan  = features.FormatYuan  // yuan: "1.2万元" / "12,345 yuan"
	uRatio = features.FormatRatio // one decimal: "4.2"
	uShare = features.FormatShare // a percentage: "35%"
	uFlag  = features.FormatFlag  // no figure: the reason is ReasonZh when 1, NotZh when 0
)

// featureText is what the night knows of a model feature, read from the
// feature catalog (features.Catalog, the SQL headers): a short label, the
// official risk type it points to, its unit and the reason templates (%s
// takes the formatted value).
type featureText struct {
	Zh, En             string
	Risk               string
	Unit               unit
	ReasonZh, ReasonEn string // when the value is present (for flags: when 1)
	NotZh, NotEn       string // flags only: when 0
	ZeroZh, ZeroEn     string // when the value rounds to 0; "" none
	Health             bool   // health data: never a reason
}

// featureTexts maps every model feature of the catalog to its texts. It is
// built once from the catalog and never written.
var featureTexts = textsOfCatalog()

func textsOfCatalog() map[string]featureText {
	out := map[string]featureText{}
	for _, c := range features.Catalog() {
		if !c.Model {
			continue
		}
		out[c.Name] = featureText{Zh: c.Label.Zh, En: c.Label.En, Risk: c.RiskType, Unit: c.ReasonFormat(),
			ReasonZh: c.Reason.Zh, ReasonEn: c.Reason.En, NotZh: c.ReasonNot.Zh, NotEn: c.ReasonNot.En,
			ZeroZh: c.ReasonZero.Zh, ZeroEn: c.ReasonZero.En, Health: c.Health}
	}
	return out
}

// profileLabels is the feature → (profile name, Chinese, risk type) table
// that names k-means clusters (kmeans.Model.Profile); the catalog's.
func profileLabels() map[string]kmeans.Label {
	out := map[string]kmeans.Label{}
	for f, l := range features.ProfileLabels() {
		out[f] = kmeans.Label(l)
	}
	return out
}

// formatValue writes v in unit u; zh selects Chinese or English.
func formatValue(v float64, u unit, zh bool) string {
	switch u {
	case uYuan:
		if zh {
			if math.Abs(v) >= 10000 {
				return strconv.FormatFloat(v/10000, 'f', 1, 64) + "万元"
			}
			return strconv.FormatFloat(math.Round(v), 'f', 0, 64) + "元"
		}
		return rules.Thousands(v) + " yuan"
	case uRatio:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case uShare:
		return strconv.FormatFloat(math.Round(v*100), 'f', 0, 64) + "%"
	default:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
}

// reason renders the reason for feature f with value v, in Chinese and
// English. A missing value reads "<label>：无记录".
func reason(f string, v float64) (zh, en string) {
	t, ok := featureTexts[f]
	if !ok {
		return f + "=" + formatValue(v, uRatio, true), f + "=" + formatValue(v, uRatio, false)
	}
	if t.Health {
		// never called for health data (buildRows skips it); written out
		// anyway so that no office output can name a health condition.
		return "其他因素", "another factor"
	}
	if math.IsNaN(v) {
		return t.Zh + "：无记录", t.En + ": no record"
	}
	if t.ZeroZh != "" && math.Round(v) == 0 {
		return t.ZeroZh, t.ZeroEn
	}
	if t.Unit == uFlag {
		if v != 0 {
			return t.ReasonZh, t.ReasonEn
		}
		return t.NotZh, t.NotEn
	}
	return strings.Replace(t.ReasonZh, "%s", formatValue(v, t.Unit, true), 1),
		strings.Replace(t.ReasonEn, "%s", formatValue(v, t.Unit, false), 1)
}

// riskTypeZh is the official Chinese wording of a risk type code
// (rules.RiskTypeZh, the one table of risk-type names).
func riskTypeZh(code string) string { return rules.RiskTypeZh(code) }
