// Package brief writes the risk brief (风险研判简报) of a run directory: a
// short, self-contained HTML (or PDF) report for a province, city or county
// office, built only from the run directory and the earlier ones beside it.
//
// The brief never recomputes a score and never names a household: it counts
// the ranked households of the run by area, risk type, profile and measure,
// suppresses every cell of fewer than five households (and the cells that
// would reveal one), and says which data it stands on. A brief is refused
// (ErrIncomplete) when the run directory is not complete or does not match
// its audit record.
//
// The page is rendered by html/template from templates/*.html (embedded),
// so every text is escaped by construction; the Go code builds a view of
// plain strings and writes no markup. Charts are small inline SVG drawn by
// the same templates rather than with gonum/plot: gonum/plot lays text out
// with its own Latin fonts, which cannot measure Chinese labels; inline SVG
// text is laid out by the browser with the CJK fonts the page's CSS names.
// PDF is printed by the system's headless Chromium through package browser
// (chromedp).
package brief
