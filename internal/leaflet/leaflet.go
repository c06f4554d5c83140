// Package leaflet parses awareness leaflet sources and renders their content.
//
// A leaflet source is a small Markdown subset followed by a quiz:
//
//	# Title line (exactly one, first line)
//
//	Paragraph text, may wrap over
//	several lines; **bold** allowed.
//
//	## Section heading
//
//	- bullet item
//
//	+++ quiz
//	? Question prompt
//	- wrong option
//	* right option (exactly one)
//	> Explanation shown when the driver answers wrongly.
//
// Everything before the "+++ quiz" line is the content: the exact text shown
// to drivers, whose SHA-256 (see Hash) is recorded as evidence.
package leaflet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"
)

// MaxContentBytes is the largest leaflet content Parse accepts (64 KiB).
const MaxContentBytes = 64 << 10

// quizMarker is the line that separates the content from the quiz.
const quizMarker = "+++ quiz"

// Question is one quiz question about the leaflet.
type Question struct {
	Prompt      string
	Options     []string
	Correct     int // index into Options of the one right answer
	Explanation string
}

// Source is a parsed leaflet source file.
type Source struct {
	Title   string // text of the "# " line
	Content string // everything before "+++ quiz" (title line included), ending in exactly one "\n"
	Quiz    []Question
}

// ParseError reports a problem in a leaflet source, with the 1-based line
// number it was found on.
type ParseError struct {
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("leaflet: line %d: %s", e.Line, e.Msg)
}

func errorf(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Parse reads a leaflet source. Line endings are normalised to "\n" (CRLF
// and lone CR) before anything else, and a leading UTF-8 byte order mark is
// dropped. Errors are *ParseError values naming the offending line.
func Parse(src []byte) (Source, error) {
	text := normalise(src)
	lines := strings.Split(text, "\n")
	// A final "\n" ends the last line; it does not start a new one.
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}

	for i, l := range lines {
		if !utf8.ValidString(l) {
			return Source{}, errorf(i+1, "text is not valid UTF-8")
		}
	}

	var src0 Source

	// Title: the first line, and the only "# " line in the content.
	first := strings.TrimRight(lines[0], " \t")
	if !strings.HasPrefix(first, "# ") || strings.TrimSpace(first[2:]) == "" {
		return Source{}, errorf(1, `missing title: the first line must be "# " followed by the leaflet title`)
	}
	src0.Title = strings.TrimSpace(first[2:])

	// Content: everything up to the "+++ quiz" line.
	marker := -1
	size := 0
	for i, l := range lines {
		if strings.TrimRight(l, " \t") == quizMarker {
			marker = i
			break
		}
		size += len(l) + 1
		if size > MaxContentBytes {
			return Source{}, errorf(i+1, "leaflet content is longer than the limit of %d bytes", MaxContentBytes)
		}
		if i > 0 && strings.HasPrefix(l, "# ") {
			return Source{}, errorf(i+1, `second title line: only the first line may start with "# " (use "## " for a section heading)`)
		}
	}
	if marker < 0 {
		return Source{}, errorf(len(lines), "no quiz: the file ends without a %q line", quizMarker)
	}
	src0.Content = strings.TrimRight(strings.Join(lines[:marker], "\n"), "\n") + "\n"

	quiz, err := parseQuiz(lines[marker+1:], marker+2)
	if err != nil {
		return Source{}, err
	}
	if len(quiz) == 0 {
		return Source{}, errorf(marker+1, "no quiz: no questions follow the %q line", quizMarker)
	}
	src0.Quiz = quiz
	return src0, nil
}

// normalise converts CRLF and lone CR line endings to LF and drops a leading
// UTF-8 byte order mark.
func normalise(src []byte) string {
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
	return string(src)
}

// parseQuiz reads the lines after "+++ quiz"; firstLine is the 1-based
// number of lines[0].
func parseQuiz(lines []string, firstLine int) ([]Question, error) {
	var (
		quiz    []Question
		cur     *Question
		curLine int
		correct int
		hasExpl bool
	)
	finish := func() error {
		if cur == nil {
			return nil
		}
		switch {
		case len(cur.Options) < 2:
			return errorf(curLine, "question %q has %d option(s); at least 2 are needed", cur.Prompt, len(cur.Options))
		case correct != 1:
			return errorf(curLine, `question %q has %d correct options ("* "); exactly one is needed`, cur.Prompt, correct)
		case !hasExpl:
			return errorf(curLine, `question %q has no explanation ("> " line)`, cur.Prompt)
		}
		quiz = append(quiz, *cur)
		cur = nil
		return nil
	}

	for i, raw := range lines {
		n := firstLine + i
		l := strings.TrimSpace(raw)
		if l == "" {
			continue
		}
		if len(l) < 2 || l[1] != ' ' || strings.TrimSpace(l[2:]) == "" {
			return nil, errorf(n, `unexpected line in quiz: %q (expected "? ", "- ", "* " or "> " followed by text)`, clip(l))
		}
		kind, body := l[0], strings.TrimSpace(l[2:])
		if cur == nil && (kind == '-' || kind == '*' || kind == '>') {
			return nil, errorf(n, `%q comes before any question; start a question with "? "`, clip(l))
		}
		switch kind {
		case '?':
			if err := finish(); err != nil {
				return nil, err
			}
			cur = &Question{Prompt: body}
			curLine, correct, hasExpl = n, 0, false
		case '-', '*':
			if hasExpl {
				return nil, errorf(n, "option after the explanation; put options before the \"> \" line")
			}
			if kind == '*' {
				cur.Correct = len(cur.Options)
				correct++
			}
			cur.Options = append(cur.Options, body)
		case '>':
			if hasExpl {
				return nil, errorf(n, `second explanation line; each question has exactly one "> " line`)
			}
			cur.Explanation = body
			hasExpl = true
		default:
			return nil, errorf(n, `unexpected line in quiz: %q (expected "? ", "- ", "* " or "> " followed by text)`, clip(l))
		}
	}
	if err := finish(); err != nil {
		return nil, err
	}
	return quiz, nil
}

// clip shortens s for use in an error message.
func clip(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}

// Hash returns the lower-case hex SHA-256 of the content bytes.
func Hash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return hex.EncodeToString(sum[:])
}

// RenderHTML converts leaflet content (the Markdown subset) to HTML:
//
//	"# "   -> <h1 class="heading-xl">
//	"## "  -> <h2 class="heading-l">
//	"### " -> <h3 class="heading-m">
//	"- "   -> <ul class="list list--bullet"><li> (an indented line continues the item)
//	other  -> <p class="body">, paragraphs separated by blank lines
//	**x**  -> <strong>x</strong>
//	a phone number (101, 999, 111, or a UK number starting 0) -> <a class="link" href="tel:…">
//	a web address (https://… or www.…) -> <a class="link" href="https://…">
//
// All text is HTML-escaped before any markup is added, so the only tags in
// the output are the ones above. The output is deterministic.
func RenderHTML(content string) template.HTML {
	content = strings.ReplaceAll(content, "\r\n", "\n")
	content = strings.ReplaceAll(content, "\r", "\n")

	var (
		b     strings.Builder
		para  []string // lines of the open paragraph
		items []string // items of the open list
	)
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString(`<p class="body">`)
			b.WriteString(inline(strings.Join(para, "\n")))
			b.WriteString("</p>\n")
			para = nil
		}
	}
	flushList := func() {
		if len(items) > 0 {
			b.WriteString(`<ul class="list list--bullet">` + "\n")
			for _, it := range items {
				b.WriteString("<li>")
				b.WriteString(inline(it))
				b.WriteString("</li>\n")
			}
			b.WriteString("</ul>\n")
			items = nil
		}
	}
	flush := func() { flushPara(); flushList() }

	for _, raw := range strings.Split(content, "\n") {
		line := strings.TrimRight(raw, " \t")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			flush()
			continue
		}
		if tag, class, text, ok := heading(line); ok {
			flush()
			fmt.Fprintf(&b, "<%s class=%q>%s</%s>\n", tag, class, inline(text), tag)
			continue
		}
		if text, ok := strings.CutPrefix(line, "- "); ok && strings.TrimSpace(text) != "" {
			flushPara()
			items = append(items, strings.TrimSpace(text))
			continue
		}
		if len(items) > 0 && (line[0] == ' ' || line[0] == '\t') {
			items[len(items)-1] += "\n" + trimmed
			continue
		}
		flushList()
		para = append(para, trimmed)
	}
	flush()
	// Every piece of text went through inline, which escapes it first.
	return template.HTML(b.String())
}

// heading recognises "# ", "## " and "### " lines with non-empty text.
func heading(line string) (tag, class, text string, ok bool) {
	for _, h := range []struct{ prefix, tag, class string }{
		{"### ", "h3", "heading-m"},
		{"## ", "h2", "heading-l"},
		{"# ", "h1", "heading-xl"},
	} {
		if t, found := strings.CutPrefix(line, h.prefix); found {
			t = strings.TrimSpace(t)
			if t == "" {
				return "", "", "", false
			}
			return h.tag, h.class, t, true
		}
	}
	return "", "", "", false
}

// inline escapes s for HTML and then turns **bold** pairs into <strong>.
// An unmatched "**" stays as literal text.
func inline(s string) string {
	esc := template.HTMLEscapeString(s)
	var b strings.Builder
	for {
		open := strings.Index(esc, "**")
		if open < 0 {
			break
		}
		rest := esc[open+2:]
		end := strings.Index(rest, "**")
		if end < 0 {
			break
		}
		if end == 0 { // "****": nothing to make bold; keep it literal
			b.WriteString(esc[:open+4])
			esc = esc[open+4:]
			continue
		}
		b.WriteString(esc[:open])
		b.WriteString("<strong>")
		b.WriteString(rest[:end])
		b.WriteString("</strong>")
		esc = rest[end+2:]
	}
	b.WriteString(esc)
	return linkify(b.String())
}

// linkable finds phone numbers and web addresses in escaped leaflet text: the short numbers
// 101, 999 and 111 standing alone, UK numbers of 10 or 11 digits starting 0 (spaces allowed
// between groups), and web addresses starting https://, http:// or www.
var linkable = regexp.MustCompile(`(?:https?://|www\.)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:/[^\s<]*)?|\b0\d{2,4}(?: \d{2,4}){0,3}\b|\b(?:101|999|111)\b`)

// linkify turns phone numbers into tel: links and web addresses into links, in text that is
// already escaped (so the links are the only markup it adds). Only the rendering changes: the
// content, and so its SHA-256 kept as evidence, stays the same.
func linkify(esc string) string {
	return linkable.ReplaceAllStringFunc(esc, func(m string) string {
		if m[0] == 'h' || m[0] == 'w' {
			url := strings.TrimRight(m, ".,:!?)")
			tail := m[len(url):]
			href := url
			if strings.HasPrefix(url, "www.") {
				href = "https://" + url
			}
			return `<a class="link" href="` + href + `">` + url + `</a>` + tail
		}
		digits := strings.ReplaceAll(m, " ", "")
		if len(digits) > 3 && (len(digits) < 10 || len(digits) > 11) {
			return m // not a phone number (a year, a count)
		}
		return `<a class="link" href="tel:` + digits + `">` + m + `</a>`
	})
}

// HTMLCache keeps leaflets rendered by RenderHTML, so a leaflet version (whose content never
// changes once published) is rendered once, not on every request. Safe for concurrent use.
type HTMLCache struct {
	mu      sync.Mutex
	entries map[string]cachedHTML
}

type cachedHTML struct {
	content string
	html    template.HTML
}

// htmlCacheMax bounds the versions kept; a leaflet gets a handful of versions a year.
const htmlCacheMax = 64

// Render returns RenderHTML(content), rendering it only the first time. key names the content
// (its hash); the kept HTML is used only for exactly the same content.
func (c *HTMLCache) Render(key, content string) template.HTML {
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && e.content == content {
		return e.html
	}
	html := RenderHTML(content)
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= htmlCacheMax {
		c.entries = map[string]cachedHTML{}
	}
	c.entries[key] = cachedHTML{content: content, html: html}
	c.mu.Unlock()
	return html
}
