package registry

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFeatureMismatch is wrapped by the error of CheckFeatures.
var ErrFeatureMismatch = errors.New("model does not fit the feature catalog")

// FeatureMismatchError says how a model's features differ from the
// current catalog's.
type FeatureMismatchError struct {
	Model           string
	Missing         []string // in the model, absent from the catalog
	Extra           []string // in the catalog, unknown to the model
	ReorderedAt     int      // first position where the common features differ in order; -1 if none
	ModelFeature    string   // the model's feature at ReorderedAt
	CatalogFeature  string   // the catalog's feature at ReorderedAt
	ModelHash, Hash string   // catalog hashes of the model and of the current catalog
}

func (e *FeatureMismatchError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "features missing from the current catalog: "+strings.Join(e.Missing, ", "))
	}
	if len(e.Extra) > 0 {
		parts = append(parts, "features new in the catalog: "+strings.Join(e.Extra, ", "))
	}
	if e.ReorderedAt >= 0 {
		parts = append(parts, fmt.Sprintf("features reordered: position %d is %s in the model, %s in the catalog",
			e.ReorderedAt+1, e.ModelFeature, e.CatalogFeature))
	}
	if e.ModelHash != e.Hash {
		parts = append(parts, fmt.Sprintf("catalog hash %s in the model, %s now (feature definitions changed)", short(e.ModelHash), short(e.Hash)))
	}
	return fmt.Sprintf("model %s does not fit the feature catalog: %s; retrain with povrisk train", e.Model, strings.Join(parts, "; "))
}

func (e *FeatureMismatchError) Unwrap() error { return ErrFeatureMismatch }

func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// CheckFeatures returns nil when the card's features are exactly
// catalogFeatures, in order, and its catalog hash is hash; otherwise a
// *FeatureMismatchError naming what differs.
func CheckFeatures(card Card, catalogFeatures []string, hash string) error {
	e := &FeatureMismatchError{Model: card.ID, ReorderedAt: -1, ModelHash: card.CatalogHash, Hash: hash}
	inCat := map[string]bool{}
	for _, f := range catalogFeatures {
		inCat[f] = true
	}
	inModel := map[string]bool{}
	for _, f := range card.Features {
		inModel[f] = true
		if !inCat[f] {
			e.Missing = append(e.Missing, f)
		}
	}
	for _, f := range catalogFeatures {
		if !inModel[f] {
			e.Extra = append(e.Extra, f)
		}
	}
	// Compare the order of the features both have.
	var a, b []string
	for _, f := range card.Features {
		if inCat[f] {
			a = append(a, f)
		}
	}
	for _, f := range catalogFeatures {
		if inModel[f] {
			b = append(b, f)
		}
	}
	for i := range a {
		if i < len(b) && a[i] != b[i] {
			e.ReorderedAt, e.ModelFeature, e.CatalogFeature = i, a[i], b[i]
			break
		}
	}
	if len(e.Missing) == 0 && len(e.Extra) == 0 && e.ReorderedAt < 0 && e.ModelHash == e.Hash {
		return nil
	}
	return e
}
