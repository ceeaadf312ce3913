package features

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// StringColumn copies the string column name of a feature table (e.g.
// region_code, status_on_as_of, rule_risk_types), one entry per row in
// row order, nulls as "". The strings are copies: they stay valid after
// t is released.
func StringColumn(t arrow.Table, name string) ([]string, error) {
	idx := t.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("feature table has no column %q: recompute the features with this catalog", name)
	}
	switch typ := t.Schema().Field(idx[0]).Type; typ.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
	default:
		return nil, fmt.Errorf("column %q is %s, not a string: read it with Numeric", name, typ)
	}
	out := make([]string, 0, t.NumRows())
	for _, ch := range t.Column(idx[0]).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			out = append(out, strings.Clone(str(ch, i)))
		}
	}
	return out, nil
}
