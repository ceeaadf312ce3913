package brief

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/povrisk/povrisk/engine/brief/browser"
	"github.com/povrisk/povrisk/engine/fault"
)

// printPDF prints the HTML to an A4 PDF with headless Chromium, numbering the
// pages in a footer (DevTools Page.printToPDF: the only way Chromium numbers
// pages; CSS @page margin boxes are not supported). The page is opened
// offline from a private temporary file. A Chromium that is missing, fails
// or does not finish in time is an unclassified error, so fault.Internal
// (exit 1); a temporary file that cannot be written is fault.Write.
func printPDF(ctx context.Context, page []byte, bin, footer string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "povrisk-brief-")
	if err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("print pdf: %w", err))
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "brief.html")
	if err := os.WriteFile(src, page, 0o600); err != nil {
		return nil, fault.Wrap(fault.Write, fmt.Errorf("print pdf: %w", err))
	}
	b, err := browser.Launch(ctx, browser.Options{Binary: bin, Offline: true})
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	defer b.Close()
	tab, err := b.Open(ctx, "file://"+src)
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	defer tab.Close()
	foot, err := footerHTML(footer)
	if err != nil {
		return nil, err
	}
	return printFitted(ctx, tab, foot)
}

// fitScales are the scales tried, largest first, to pull a short spill
// onto the page before it.
var fitScales = [...]float64{1, 0.96, 0.92}

// printFitted prints the page at full scale and, when a slightly smaller
// scale saves a page (the last page held only a short spill: a nearly
// blank last page), at the largest scale that does. At most three prints.
func printFitted(ctx context.Context, tab *browser.Tab, foot string) ([]byte, error) {
	var best []byte
	bestPages := 0
	for _, sc := range fitScales {
		pdf, err := tab.PrintPDF(ctx, browser.PDFOptions{Footer: foot, Scale: sc})
		if err != nil {
			return nil, fmt.Errorf("print pdf: %w", err)
		}
		n := pageCount(pdf)
		if best == nil {
			best, bestPages = pdf, n
			continue
		}
		if n < bestPages {
			return pdf, nil
		}
	}
	return best, nil
}

// rePage matches a page object of a PDF (not the /Pages tree): Chromium's
// PDF writer (Skia) writes every object in the clear, uncompressed.
var rePage = regexp.MustCompile(`/Type\s*/Page\b`)

// pageCount counts the pages of a PDF written by Chromium.
func pageCount(pdf []byte) int { return len(rePage.FindAllIndex(pdf, -1)) }

// footerHTML is Chromium's footer template (templates/charts.html
// "pdf-footer"): the brief's footer text on the left, "page / pages" on the
// right.
func footerHTML(text string) (string, error) {
	var b strings.Builder
	if err := templates().ExecuteTemplate(&b, "pdf-footer", text); err != nil {
		return "", fmt.Errorf("print pdf: footer: %w", err)
	}
	return b.String(), nil
}
