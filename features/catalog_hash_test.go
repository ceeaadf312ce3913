package features

import "testing"

// TestCatalogHashKept: the SQL rewritten for speed (round 6) gives the
// feature tables of the catalog before it, byte for byte, so it keeps that
// catalog's hash and the models trained on it still fit. When this fails,
// the SQL changed again: if no feature value can change, prove it (cmp of
// the feature tables of the old and new builds) and set
// sameCatalogDigest to catalogDigest(); if values change, drop the
// sameCatalog entry so that the hash changes and old models are refused.
func TestCatalogHashKept(t *testing.T) {
	const was = "60c4f14dbd8e47e134c549eec4f78db2320c19e7f50b0e76a31151618dfeefd4"
	if d := catalogDigest(); d != sameCatalogDigest {
		t.Errorf("catalog digest %s, sameCatalogDigest %s: the SQL changed (see the comment)", d, sameCatalogDigest)
	}
	if h := CatalogHash(); h != was {
		t.Errorf("CatalogHash %s, want %s", h, was)
	}
	// A digest without an entry is its own hash.
	if h := catalogHashOf("0123"); h != "0123" {
		t.Errorf("catalogHashOf(0123) = %s", h)
	}
}
