package domain

import (
	"strings"
	"unicode/utf8"
)

// maskDots stands in for the hidden part of a masked email address.
const maskDots = "•••"

// MaskEmail shows enough of an email address for its owner to recognise it and little for
// anyone looking over their shoulder: the first character of the name and of the domain, and
// the domain's ending, e.g. "jo.smith@example.co.uk" → "j•••@e•••.co.uk". Something that is
// not an address gives "•••", never the text itself.
func MaskEmail(email string) string {
	email = strings.TrimSpace(email)
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || !utf8.ValidString(email) {
		return maskDots
	}
	first, _ := utf8.DecodeRuneInString(local)
	out := string(first) + maskDots + "@"
	name, ending, hasDot := strings.Cut(domain, ".")
	if name == "" {
		return out + maskDots
	}
	d, _ := utf8.DecodeRuneInString(name)
	out += string(d) + maskDots
	if hasDot && ending != "" {
		out += "." + ending
	}
	return out
}
