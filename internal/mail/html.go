package mail

import (
	"html/template"
	"regexp"
	"strings"
)

// The HTML part says exactly what the text part says: each paragraph a <p>, each line break a
// <br>, each web address a link. html/template escapes everything else, so a name or reason
// typed by someone can never become markup. The markup is plain, in one column, with the
// language set and inline styles only (mail clients drop style sheets).
var htmlTemplate = template.Must(template.New("email").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Subject}}</title>
</head>
<body style="margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;font-size:19px;line-height:1.4;color:#0b0c0c;background:#ffffff">
<div style="max-width:640px">
{{- range .Paragraphs}}
<p style="margin:0 0 20px 0">
{{- range $i, $line := .}}{{if $i}}<br>
{{end}}{{range $line}}{{if .URL}}<a href="{{.URL}}" style="color:#1d70b8">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}{{end -}}
</p>
{{- end}}
</div>
</body>
</html>
`))

// htmlPiece is a run of text, or a link when URL is set.
type htmlPiece struct {
	Text string
	URL  string
}

type htmlEmail struct {
	Subject    string
	Paragraphs [][][]htmlPiece // paragraph → line → pieces
}

// webAddress finds http and https addresses; punctuation that ends a sentence is not part of one.
var webAddress = regexp.MustCompile(`https?://[^\s<>"]+[^\s<>".,;:!?)\]]`)

func htmlData(subject, body string) htmlEmail {
	e := htmlEmail{Subject: subject}
	for _, para := range strings.Split(strings.TrimSpace(body), "\n\n") {
		para = strings.Trim(para, "\n")
		if para == "" {
			continue
		}
		var lines [][]htmlPiece
		for _, line := range strings.Split(para, "\n") {
			lines = append(lines, linkify(line))
		}
		e.Paragraphs = append(e.Paragraphs, lines)
	}
	return e
}

func linkify(line string) []htmlPiece {
	var pieces []htmlPiece
	last := 0
	for _, loc := range webAddress.FindAllStringIndex(line, -1) {
		if loc[0] > last {
			pieces = append(pieces, htmlPiece{Text: line[last:loc[0]]})
		}
		pieces = append(pieces, htmlPiece{Text: line[loc[0]:loc[1]], URL: line[loc[0]:loc[1]]})
		last = loc[1]
	}
	if last < len(line) || len(pieces) == 0 {
		pieces = append(pieces, htmlPiece{Text: line[last:]})
	}
	return pieces
}
