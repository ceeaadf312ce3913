package brief

import (
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"

	"github.com/povrisk/povrisk/engine/brief/browser"
	"github.com/povrisk/povrisk/engine/fault"
)

// printPDF prints the HTML to an A4 PDF with headless Chromium, numbering the
// pages in a footer (DevTools Page.printToPDF: the only way Chromium numbers
// pages; CSS @page margin boxes are not supported). The page is opened
// offline from a private temporary file.
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
	pdf, err := tab.PrintPDF(ctx, browser.PDFOptions{Footer: footerHTML(footer)})
	if err != nil {
		return nil, fmt.Errorf("print pdf: %w", err)
	}
	return pdf, nil
}

// footerHTML is Chromium's footer template: the brief's footer text
// (escaped) on the left, "page / pages" on the right.
func footerHTML(text string) string {
	return `<div style="width:100%;font-size:8px;color:#6b7280;padding:0 15mm;display:flex;justify-content:space-between;font-family:'Noto Sans CJK SC',sans-serif">` +
		`<span>` + html.EscapeString(text) + `</span><span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>`
}
