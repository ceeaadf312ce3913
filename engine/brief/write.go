package brief

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/povrisk/povrisk/engine/atomicfile"
	"github.com/povrisk/povrisk/engine/fault"
)

// Options configure a brief. The zero value of every field but Run means
// something sensible.
type Options struct {
	// Run is the run directory (RUNS/<as-of>); earlier runs are read from
	// its parent.
	Run string
	// Region is a region-code prefix of 2 (province), 4 (city) or 6
	// (county) digits; "" is every region of the run.
	Region string
	// Lang is "zh" (default) or "en".
	Lang string
	// Format is "html" (default) or "pdf".
	Format string
	// Out is the file to write; "" is brief-<as-of>[-<region>]-<lang>.<format>
	// in the current directory.
	Out string
	// UnitCosts are yuan per household per year by measure; nil is
	// DefaultUnitCosts (marked illustrative in the brief). Every cost must
	// be finite, from 0 to MaxUnitCost (else a fault.Policy error).
	UnitCosts map[string]float64
	// Chromium is the browser binary for PDF; "" looks up chromium,
	// chromium-browser, google-chrome on PATH.
	Chromium string
	// Progress receives one line per step; nil is quiet.
	Progress io.Writer
}

// Write writes the brief of the run directory o.Run and returns its path.
// It refuses (an error wrapping ErrIncomplete, marked fault.Tampered) a run
// directory that is not complete or does not match its audit record. Errors
// are marked with their fault kind: Usage for bad options, Policy for bad
// unit costs, BadInput for an unreadable run, Write when the brief cannot
// be written, Internal when Chromium is missing (browser.ErrNoBrowser).
func Write(ctx context.Context, o Options) (string, error) {
	if err := o.check(); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	asOf, err := HTML(ctx, &buf, o)
	if err != nil {
		return "", err
	}
	out := o.Out
	if out == "" {
		name := "brief-" + asOf
		if o.Region != "" {
			name += "-" + o.Region
		}
		out = name + "-" + o.lang() + "." + o.format()
	}
	if o.format() == "html" {
		if err := atomicfile.WriteFile(out, buf.Bytes(), 0o644); err != nil {
			return "", err
		}
		progress(o.Progress, "wrote %s", out)
		return out, nil
	}
	pdf, err := printPDF(ctx, buf.Bytes(), o.Chromium, footerText(o.lang(), asOf))
	if err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(out, pdf, 0o644); err != nil {
		return "", err
	}
	progress(o.Progress, "wrote %s", out)
	return out, nil
}

// HTML writes the brief's HTML to w and returns the run's as-of date.
func HTML(ctx context.Context, w io.Writer, o Options) (string, error) {
	if err := o.check(); err != nil {
		return "", err
	}
	costs, def := o.UnitCosts, false
	if costs == nil {
		costs, def = DefaultUnitCosts(), true
	}
	if err := checkUnitCosts(costs); err != nil {
		return "", err
	}
	progress(o.Progress, "reading run %s", o.Run)
	f, err := compute(ctx, o.Run, o.Region, costs, def)
	if err != nil {
		return "", err
	}
	if err := render(w, f, lang(o.lang())); err != nil {
		if fault.IsWriteFailure(err) {
			err = fault.Wrap(fault.Write, err)
		}
		return "", fmt.Errorf("write brief: %w", err)
	}
	return f.AsOf, nil
}

func (o Options) lang() string {
	if o.Lang == "" {
		return "zh"
	}
	return o.Lang
}

func (o Options) format() string {
	if o.Format == "" {
		return "html"
	}
	return o.Format
}

// check validates the options; its errors are marked fault.Usage.
func (o Options) check() error { return fault.Wrap(fault.Usage, o.problem()) }

func (o Options) problem() error {
	if o.Run == "" {
		return fmt.Errorf("brief: no run directory given")
	}
	switch len(o.Region) {
	case 0, 2, 4, 6:
	default:
		return fmt.Errorf("brief: region %q must be a code prefix of 2, 4 or 6 digits", o.Region)
	}
	if strings.Trim(o.Region, "0123456789") != "" {
		return fmt.Errorf("brief: region %q must be digits", o.Region)
	}
	if l := o.lang(); l != "zh" && l != "en" {
		return fmt.Errorf("brief: language %q: use zh or en", o.Lang)
	}
	if f := o.format(); f != "html" && f != "pdf" {
		return fmt.Errorf("brief: format %q: use html or pdf", o.Format)
	}
	return nil
}

func progress(w io.Writer, format string, a ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", a...)
	}
}

func footerText(l, asOf string) string {
	return lang(l).t("风险研判简报 · "+asOf+" · 内部工作材料，请勿外传", "Risk brief · "+asOf+" · internal working paper")
}
