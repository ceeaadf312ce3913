// Package browser drives the system's headless Chromium for the brief,
// through chromedp (github.com/chromedp/chromedp, over the DevTools pipe).
// It starts Chromium with the flags that work on a closed network and a
// fresh profile, never downloads a browser, limits every step in time and
// stops with the caller's context. The brief uses it to print PDF with page
// numbers; its tests use it to open a brief offline and collect console
// errors, failed requests and screenshots.
package browser
