// Package browser drives headless Chromium over the DevTools protocol on a
// pipe (--remote-debugging-pipe: NUL-separated JSON on file descriptors 3
// and 4), with the standard library only. The brief uses it to print PDF
// with page numbers; its tests use it to open a brief offline and collect
// console errors, failed requests and screenshots.
package browser
