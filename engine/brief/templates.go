package brief

import (
	"embed"
	"html/template"
	"strings"
	"sync"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed style.css
var styleCSS string

// templates returns the brief's parsed templates (parsed once; a template
// set is safe for concurrent use).
var templates = sync.OnceValue(func() *template.Template {
	// The style sheet is a template of literal text, so that no value of a
	// trusted type (template.CSS) is needed to put it into the page.
	t := template.Must(template.New("style").Parse(styleCSS))
	names, err := templateFiles.ReadDir("templates")
	if err != nil {
		panic("brief: templates: " + err.Error())
	}
	for _, n := range names {
		b, err := templateFiles.ReadFile("templates/" + n.Name())
		if err != nil {
			panic("brief: templates: " + err.Error())
		}
		template.Must(t.New(n.Name()).Parse(joinLines(string(b))))
	}
	return t
})

// joinLines drops the line breaks and the indentation of a template, so
// that its elements can be written one a line while the page is written on
// one line. Text that needs a space at a line's end or start says so with
// {{" "}}; a line break in the output is {{"\n"}}.
func joinLines(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimSpace(l))
	}
	return b.String()
}
