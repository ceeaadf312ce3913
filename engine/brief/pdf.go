package brief

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	pdf, err := tab.PrintPDF(ctx, browser.PDFOptions{Footer: foot})
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	return pdf, nil
}

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
