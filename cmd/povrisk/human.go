package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/povrisk/povrisk/features/rules"
)

// Numbers and words in messages, for people: counts with thousands
// separators, plurals right in English, scores to three places, times
// in seconds or minutes. Every command's messages use these.

// count is n with thousands separators: 20000 -> "20,000".
// The one thousands format of povrisk's texts is rules.Thousands.
func count(n int64) string { return rules.Thousands(float64(n)) }

// plural is n and the noun, singular for exactly one: "1 household",
// "2 households", "3,500 households". Nouns ending in y after a
// consonant take -ies ("1 entry", "2 entries"); s, x, ch, sh take -es.
func plural(n int64, noun string) string {
	if n == 1 || n == -1 {
		return count(n) + " " + noun
	}
	return count(n) + " " + pluralNoun(noun)
}

func pluralNoun(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		return noun + "es"
	}
	return noun + "s"
}

// score is a metric such as an AUC or a precision to three places; "-"
// for NaN or infinity (a metric that could not be computed).
func score(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "-"
	}
	return strconv.FormatFloat(f, 'f', 3, 64)
}

// seconds is a duration for a message: "0.4s", "12s", "3m05s", "1h02m".
func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.1fs", s)
	case s < 60:
		return fmt.Sprintf("%.0fs", s)
	case s < 3600:
		m := int(s) / 60
		return fmt.Sprintf("%dm%02ds", m, int(s)-60*m)
	}
	h := int(s) / 3600
	return fmt.Sprintf("%dh%02dm", h, (int(s)-3600*h)/60)
}

// bytesHuman is a size in binary units: "512 B", "3.4 MiB", "1.2 GiB".
func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
