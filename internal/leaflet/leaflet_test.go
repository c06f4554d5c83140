package leaflet

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// driverLeaflet is the real taxi-driver leaflet, relative to this package.
var driverLeaflet = filepath.Join("..", "..", "db", "leaflets", "driver-v1.md")

func readDriverLeaflet(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(driverLeaflet)
	if err != nil {
		t.Fatalf("reading the driver leaflet: %v", err)
	}
	return b
}

const minimal = "# Title\n\nText.\n\n+++ quiz\n? Q?\n- a\n* b\n> because\n"

func TestParseDriverLeaflet(t *testing.T) {
	src, err := Parse(readDriverLeaflet(t))
	if err != nil {
		t.Fatalf("Parse(%s): %v", driverLeaflet, err)
	}

	t.Run("title", func(t *testing.T) {
		want := "Modern slavery: what taxi and private-hire drivers need to know"
		if diff := cmp.Diff(want, src.Title); diff != "" {
			t.Errorf("Title (-want +got):\n%s", diff)
		}
	})
	t.Run("three questions", func(t *testing.T) {
		if diff := cmp.Diff(3, len(src.Quiz)); diff != "" {
			t.Errorf("len(Quiz) (-want +got):\n%s", diff)
		}
	})
	for i, q := range src.Quiz {
		t.Run("question "+q.Prompt, func(t *testing.T) {
			if len(q.Options) < 2 {
				t.Errorf("question %d has %d options", i, len(q.Options))
			}
			if q.Correct < 0 || q.Correct >= len(q.Options) {
				t.Errorf("question %d: Correct = %d, out of range", i, q.Correct)
			}
			if q.Explanation == "" {
				t.Errorf("question %d has no explanation", i)
			}
		})
	}
	t.Run("emergency question answer", func(t *testing.T) {
		q := src.Quiz[0]
		if diff := cmp.Diff("999", q.Options[q.Correct]); diff != "" {
			t.Errorf("right answer (-want +got):\n%s", diff)
		}
	})
	for _, want := range []string{"08000 121 700", "03000 11 55 55", "101", "999", "www.hertfordshirebeacon.org"} {
		t.Run("content contains "+want, func(t *testing.T) {
			if !strings.Contains(src.Content, want) {
				t.Errorf("Content does not contain %q", want)
			}
		})
	}
	t.Run("content shape", func(t *testing.T) {
		if !strings.HasPrefix(src.Content, "# "+src.Title+"\n") {
			t.Errorf("Content does not start with the title line")
		}
		if !strings.HasSuffix(src.Content, "\n") || strings.HasSuffix(src.Content, "\n\n") {
			t.Errorf("Content must end in exactly one newline; ends %q", src.Content[len(src.Content)-10:])
		}
		if strings.Contains(src.Content, "+++ quiz") || strings.Contains(src.Content, "\n? ") {
			t.Errorf("Content contains the quiz")
		}
	})
	t.Run("CRLF gives the same result", func(t *testing.T) {
		crlf := strings.ReplaceAll(string(readDriverLeaflet(t)), "\n", "\r\n")
		got, err := Parse([]byte(crlf))
		if err != nil {
			t.Fatalf("Parse(CRLF): %v", err)
		}
		if diff := cmp.Diff(src, got); diff != "" {
			t.Errorf("CRLF parse (-want +got):\n%s", diff)
		}
	})
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Source
	}{
		{
			name: "minimal",
			in:   minimal,
			want: Source{
				Title:   "Title",
				Content: "# Title\n\nText.\n",
				Quiz:    []Question{{Prompt: "Q?", Options: []string{"a", "b"}, Correct: 1, Explanation: "because"}},
			},
		},
		{
			name: "CRLF, BOM, trailing blank lines and spaces",
			in:   "\ufeff# Title  \r\n\r\nText.\r\n\r\n\r\n+++ quiz  \r\n\r\n?  Q?  \r\n* a\r\n- b\r\n- c\r\n>  why \r\n",
			want: Source{
				Title:   "Title",
				Content: "# Title  \n\nText.\n",
				Quiz:    []Question{{Prompt: "Q?", Options: []string{"a", "b", "c"}, Correct: 0, Explanation: "why"}},
			},
		},
		{
			name: "two questions, no final newline",
			in:   "# T\n+++ quiz\n? One\n- x\n* y\n> e1\n? Two\n* p\n- q\n> e2",
			want: Source{
				Title:   "T",
				Content: "# T\n",
				Quiz: []Question{
					{Prompt: "One", Options: []string{"x", "y"}, Correct: 1, Explanation: "e1"},
					{Prompt: "Two", Options: []string{"p", "q"}, Correct: 0, Explanation: "e2"},
				},
			},
		},
		{
			name: "unicode text",
			in:   "# Caethwasiaeth fodern — Zoë\n\nŁódź, 東京.\n+++ quiz\n? Ça va?\n- non\n* oui\n> très bien\n",
			want: Source{
				Title:   "Caethwasiaeth fodern — Zoë",
				Content: "# Caethwasiaeth fodern — Zoë\n\nŁódź, 東京.\n",
				Quiz:    []Question{{Prompt: "Ça va?", Options: []string{"non", "oui"}, Correct: 1, Explanation: "très bien"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	big := "# T\n" + strings.Repeat("0123456789abcde\n", MaxContentBytes/16) + "+++ quiz\n? Q\n- a\n* b\n> e\n"
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string // substring of the message
	}{
		{"empty", "", 1, "missing title"},
		{"no title", "Text\n+++ quiz\n? Q\n- a\n* b\n> e\n", 1, "missing title"},
		{"title without text", "#   \n+++ quiz\n", 1, "missing title"},
		{"title not first", "\n# T\n+++ quiz\n", 1, "missing title"},
		{"second title", "# T\n\n# Again\n+++ quiz\n? Q\n- a\n* b\n> e\n", 3, "second title line"},
		{"no quiz marker", "# T\n\ntext\n", 3, "no quiz"},
		{"no questions", "# T\n+++ quiz\n\n", 2, "no quiz"},
		{"no correct option", "# T\n+++ quiz\n? Q\n- a\n- b\n> e\n", 3, "0 correct options"},
		{"two correct options", "# T\n+++ quiz\n? One\n- x\n* y\n> e\n\n? Two\n* a\n* b\n> e\n", 8, "2 correct options"},
		{"one option", "# T\n+++ quiz\n? Q\n* a\n> e\n", 3, "at least 2"},
		{"no options", "# T\n+++ quiz\n? Q\n> e\n", 3, "at least 2"},
		{"missing explanation", "# T\n+++ quiz\n? Q\n- a\n* b\n? R\n- a\n* b\n> e\n", 3, "no explanation"},
		{"two explanations", "# T\n+++ quiz\n? Q\n- a\n* b\n> e\n> f\n", 7, "second explanation"},
		{"option after explanation", "# T\n+++ quiz\n? Q\n- a\n* b\n> e\n- c\n", 7, "after the explanation"},
		{"option before question", "# T\n+++ quiz\n- a\n? Q\n- a\n* b\n> e\n", 3, "before any question"},
		{"unknown quiz line", "# T\n+++ quiz\n? Q\n- a\nhello\n", 5, "unexpected line"},
		{"empty option", "# T\n+++ quiz\n? Q\n- a\n* \n> e\n", 5, "unexpected line"},
		{"second marker", "# T\n+++ quiz\n? Q\n- a\n* b\n> e\n+++ quiz\n", 7, "unexpected line"},
		{"invalid UTF-8 in content", "# T\n\nbad \xff byte\n+++ quiz\n", 3, "not valid UTF-8"},
		{"invalid UTF-8 in quiz", "# T\n+++ quiz\n? Q\n- \xc3\n* b\n> e\n", 4, "not valid UTF-8"},
		{"CRLF line numbers", "# T\r\n\r\n+++ quiz\r\n? Q\r\n* a\r\n> e\r\n", 4, "at least 2"},
		{"content too long", big, MaxContentBytes/16 + 1, "longer than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want an error; got %+v", got)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if diff := cmp.Diff(tt.wantLine, pe.Line); diff != "" {
				t.Errorf("line of %q (-want +got):\n%s", err, diff)
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q does not name a line", err)
			}
			if diff := cmp.Diff(Source{}, got); diff != "" {
				t.Errorf("Parse returned a partial Source (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContentLimitIsInclusive(t *testing.T) {
	// "# T\n" plus filler so the content is exactly MaxContentBytes.
	body := "# T\n" + strings.Repeat("x", MaxContentBytes-5) + "\n"
	if len(body) != MaxContentBytes {
		t.Fatalf("test setup: len = %d", len(body))
	}
	got, err := Parse([]byte(body + "+++ quiz\n? Q\n- a\n* b\n> e\n"))
	if err != nil {
		t.Fatalf("Parse at the limit: %v", err)
	}
	if diff := cmp.Diff(MaxContentBytes, len(got.Content)); diff != "" {
		t.Errorf("len(Content) (-want +got):\n%s", diff)
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    string
	}{
		{"empty", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"unicode", "Zoë — 08000 121 700\n", sumHex("Zoë — 08000 121 700\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Hash(tt.content)); diff != "" {
				t.Errorf("Hash (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("driver leaflet", func(t *testing.T) {
		src, err := Parse(readDriverLeaflet(t))
		if err != nil {
			t.Fatal(err)
		}
		h := Hash(src.Content)
		if diff := cmp.Diff(sumHex(src.Content), h); diff != "" {
			t.Errorf("Hash vs crypto/sha256 (-want +got):\n%s", diff)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
			t.Errorf("Hash = %q, want 64 lower-case hex digits", h)
		}
		if diff := cmp.Diff(h, Hash(src.Content)); diff != "" {
			t.Errorf("Hash is not stable (-want +got):\n%s", diff)
		}
		again, err := Parse(readDriverLeaflet(t))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(h, Hash(again.Content)); diff != "" {
			t.Errorf("Hash differs between parses (-want +got):\n%s", diff)
		}
		if Hash(src.Content+" ") == h {
			t.Errorf("Hash ignores a change to the content")
		}
	})
}

func sumHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestRenderHTML(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", ""},
		{"headings", "# Big\n## Medium\n### Small\n",
			`<h1 class="heading-xl">Big</h1>` + "\n" +
				`<h2 class="heading-l">Medium</h2>` + "\n" +
				`<h3 class="heading-m">Small</h3>` + "\n"},
		{"not headings", "#### Four\n#NoSpace\n#\n",
			`<p class="body">#### Four` + "\n#NoSpace\n#</p>\n"},
		{"paragraphs", "One\nwraps.\n\n\nTwo.\n",
			`<p class="body">One` + "\nwraps.</p>\n" + `<p class="body">Two.</p>` + "\n"},
		{"bold", "Call **999** now, **or** not.\n",
			`<p class="body">Call <strong><a class="link" href="tel:999">999</a></strong> now, <strong>or</strong> not.</p>` + "\n"},
		{"unmatched and empty bold", "a ** b\n\n**** c\n",
			`<p class="body">a ** b</p>` + "\n" + `<p class="body">**** c</p>` + "\n"},
		{"bold over two lines", "**one\ntwo**\n",
			`<p class="body"><strong>one` + "\ntwo</strong></p>\n"},
		{"list", "Intro:\n- one\n- **two**\n  continued\n\nAfter.\n",
			`<p class="body">Intro:</p>` + "\n" +
				`<ul class="list list--bullet">` + "\n<li>one</li>\n<li><strong>two</strong>\ncontinued</li>\n</ul>\n" +
				`<p class="body">After.</p>` + "\n"},
		{"list ended by heading", "- a\n## H\n",
			`<ul class="list list--bullet">` + "\n<li>a</li>\n</ul>\n" + `<h2 class="heading-l">H</h2>` + "\n"},
		{"list ended by unindented text", "- a\nb\n",
			`<ul class="list list--bullet">` + "\n<li>a</li>\n</ul>\n" + `<p class="body">b</p>` + "\n"},
		{"script escaped", "<script>alert('x')</script>\n",
			`<p class="body">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>` + "\n"},
		{"escaped in heading, list and bold", "# <b>\n- <i>\n**<script>**\n",
			`<h1 class="heading-xl">&lt;b&gt;</h1>` + "\n" +
				`<ul class="list list--bullet">` + "\n<li>&lt;i&gt;</li>\n</ul>\n" +
				`<p class="body"><strong>&lt;script&gt;</strong></p>` + "\n"},
		{"ampersand and quotes", `Tom & "Jerry"` + "\n",
			`<p class="body">Tom &amp; &#34;Jerry&#34;</p>` + "\n"},
		{"CRLF", "# T\r\n\r\nText\r\n",
			`<h1 class="heading-xl">T</h1>` + "\n" + `<p class="body">Text</p>` + "\n"},
		{"phone numbers are tel: links", "Call 08000 121 700.\n",
			`<p class="body">Call <a class="link" href="tel:08000121700">08000 121 700</a>.</p>` + "\n"},
		{"short numbers too", "Call 999, or 101.\n",
			`<p class="body">Call <a class="link" href="tel:999">999</a>, or <a class="link" href="tel:101">101</a>.</p>` + "\n"},
		{"a bold number", "**03000 11 55 55**\n",
			`<p class="body"><strong><a class="link" href="tel:03000115555">03000 11 55 55</a></strong></p>` + "\n"},
		{"not every number is a phone number", "Open 24 hours, 8am to 8pm, since 2026, 1010 or 0123.\n",
			`<p class="body">Open 24 hours, 8am to 8pm, since 2026, 1010 or 0123.</p>` + "\n"},
		{"a web address", "Website: www.hertfordshirebeacon.org.\n",
			`<p class="body">Website: <a class="link" href="https://www.hertfordshirebeacon.org">www.hertfordshirebeacon.org</a>.</p>` + "\n"},
		{"an address cannot break out", "https://x.org/\"onclick=&<b>\n",
			`<p class="body"><a class="link" href="https://x.org/&#34;onclick=&amp;&lt;b&gt;">https://x.org/&#34;onclick=&amp;&lt;b&gt;</a></p>` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(RenderHTML(tt.in))); diff != "" {
				t.Errorf("RenderHTML (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderHTMLDriverLeaflet(t *testing.T) {
	src, err := Parse(readDriverLeaflet(t))
	if err != nil {
		t.Fatal(err)
	}
	got := string(RenderHTML(src.Content))
	for _, want := range []string{
		`<h1 class="heading-xl">Modern slavery: what taxi and private-hire drivers need to know</h1>`,
		`<h2 class="heading-l">Where to report</h2>`,
		`<h3 class="heading-m">Forced labour</h3>`,
		`<ul class="list list--bullet">`,
		`<strong><a class="link" href="tel:08000121700">08000 121 700</a></strong>`,
		`<strong><a class="link" href="tel:03000115555">03000 11 55 55</a></strong>`,
		`<strong><a class="link" href="tel:999">999</a></strong>`,
		`call the police on <strong><a class="link" href="tel:101">101</a></strong>`,
		`<a class="link" href="https://www.hertfordshirebeacon.org">www.hertfordshirebeacon.org</a>`,
	} {
		t.Run(want, func(t *testing.T) {
			if !strings.Contains(got, want) {
				t.Errorf("rendered leaflet does not contain %s", want)
			}
		})
	}
	t.Run("deterministic", func(t *testing.T) {
		if diff := cmp.Diff(got, string(RenderHTML(src.Content))); diff != "" {
			t.Errorf("second render differs (-want +got):\n%s", diff)
		}
	})
}

// allowedTags lists every tag RenderHTML may emit.
var allowedTags = []string{
	`<h1 class="heading-xl">`, `</h1>`,
	`<h2 class="heading-l">`, `</h2>`,
	`<h3 class="heading-m">`, `</h3>`,
	`<p class="body">`, `</p>`,
	`<ul class="list list--bullet">`, `</ul>`,
	`<li>`, `</li>`,
	`<strong>`, `</strong>`,
	`</a>`,
}

// allowedLink is the one tag with a value in it: a tel: link of digits, or a web link whose
// address went through the HTML escaping (so it holds no quote or angle bracket).
var allowedLink = regexp.MustCompile(`^<a class="link" href="(?:tel:\+?[0-9]{3,11}|https?://[^"<>\s]+)">`)

// checkRendered fails if html contains anything but RenderHTML's own tags.
func checkRendered(t *testing.T, in, html string) {
	t.Helper()
	if strings.Contains(strings.ToLower(html), "<script") {
		t.Fatalf("RenderHTML(%q) contains <script: %q", in, html)
	}
	rest := html
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			return
		}
		rest = rest[i:]
		ok := false
		for _, tag := range allowedTags {
			if strings.HasPrefix(rest, tag) {
				ok = true
				break
			}
		}
		ok = ok || allowedLink.MatchString(rest)
		if !ok {
			t.Fatalf("RenderHTML(%q) has an unexpected tag: %q", in, rest[:min(len(rest), 30)])
		}
		rest = rest[1:]
	}
}

// format writes a Source back out as a leaflet file.
func format(s Source) string {
	var b strings.Builder
	b.WriteString(s.Content)
	b.WriteString("\n+++ quiz\n")
	for _, q := range s.Quiz {
		b.WriteString("? " + q.Prompt + "\n")
		for i, o := range q.Options {
			mark := "- "
			if i == q.Correct {
				mark = "* "
			}
			b.WriteString(mark + o + "\n")
		}
		b.WriteString("> " + q.Explanation + "\n\n")
	}
	return b.String()
}

func FuzzParse(f *testing.F) {
	f.Add(readDriverLeaflet(f))
	f.Add([]byte(minimal))
	f.Add([]byte("# T\r\n+++ quiz\r\n? Q\r\n- a\r\n* b\r\n> e"))
	f.Add([]byte("# T\n# U\n+++ quiz\n"))
	f.Add([]byte("# T\n+++ quiz\n? Q\n* a\n* b\n> e\n> f\n- c\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Parse(in)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("Parse error %v is not a *ParseError with a line", err)
			}
			return
		}
		if s.Title == "" || !strings.HasPrefix(s.Content, "# ") {
			t.Fatalf("no title: %+v", s)
		}
		if !strings.HasSuffix(s.Content, "\n") || strings.HasSuffix(s.Content, "\n\n") {
			t.Fatalf("Content %q does not end in exactly one newline", s.Content)
		}
		if len(s.Content) > MaxContentBytes || !utf8.ValidString(s.Content) || strings.Contains(s.Content, "\r") {
			t.Fatalf("bad Content accepted: %q", s.Content)
		}
		if len(s.Quiz) == 0 {
			t.Fatalf("no questions")
		}
		for _, q := range s.Quiz {
			if len(q.Options) < 2 || q.Correct < 0 || q.Correct >= len(q.Options) || q.Explanation == "" || q.Prompt == "" {
				t.Fatalf("bad question accepted: %+v", q)
			}
		}
		again, err := Parse([]byte(format(s)))
		if err != nil {
			t.Fatalf("re-parsing the formatted source: %v\n%s", err, format(s))
		}
		if diff := cmp.Diff(s, again); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
		checkRendered(t, s.Content, string(RenderHTML(s.Content)))
	})
}

func FuzzRenderHTML(f *testing.F) {
	src, err := Parse(readDriverLeaflet(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(src.Content)
	f.Add("<script>alert(1)</script>")
	f.Add("**<script**>")
	f.Add("- <scr\n  ipt>\n# **x**\n## <\n### >")
	f.Add("<<script>script>")
	f.Add("\x00\xff**")
	f.Fuzz(func(t *testing.T, in string) {
		got := string(RenderHTML(in))
		checkRendered(t, in, got)
		if again := string(RenderHTML(in)); again != got {
			t.Fatalf("RenderHTML(%q) is not deterministic", in)
		}
	})
}

// TestHTMLCache: the kept HTML is RenderHTML's, and it is never given for other content under
// the same key (a key names content; the content itself decides).
func TestHTMLCache(t *testing.T) {
	var c HTMLCache
	a, b := "# One\n\nFirst text.", "# Two\n\nSecond text."
	for range 3 {
		if got, want := c.Render("k", a), RenderHTML(a); got != want {
			t.Fatalf("Render(a) = %q, want %q", got, want)
		}
	}
	if got, want := c.Render("k", b), RenderHTML(b); got != want {
		t.Fatalf("Render(b) under a's key = %q, want b's HTML %q", got, want)
	}
	for i := range htmlCacheMax * 2 { // more versions than it keeps: still right
		s := "Text " + strings.Repeat("x", i)
		if got, want := c.Render(Hash(s), s), RenderHTML(s); got != want {
			t.Fatalf("version %d: %q, want %q", i, got, want)
		}
	}
	if len(c.entries) > htmlCacheMax {
		t.Errorf("keeps %d renderings, want at most %d", len(c.entries), htmlCacheMax)
	}
}
