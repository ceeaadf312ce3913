package rules

import "testing"

func TestKeyZh(t *testing.T) {
	for key, want := range map[string]string{"52/2025": "贵州省2025年", "national/2021": "全国2021年", "99/2025": "区划992025年", "odd": "odd"} {
		if got := KeyZh(key); got != want {
			t.Errorf("KeyZh(%q) = %q, want %q", key, got, want)
		}
	}
}
