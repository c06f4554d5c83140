package document

import (
	"bytes"
	"net/http"
	"strings"
)

// SniffBytes names the type of content from its first bytes. It uses the standard library's
// net/http.DetectContentType (the WHATWG sniffing algorithm): the three types the service
// accepts (JPEG, PNG, PDF) are all recognised by their signatures, anything else is refused
// whatever it is, and it adds no dependency. The name of the file and the Content-Type the
// browser sent are never consulted.
func SniffBytes(head []byte) string {
	ct := http.DetectContentType(head)
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	switch ct {
	case TypeJPEG, TypePNG:
		return ct
	case TypePDF:
		// DetectContentType knows a PDF by "%PDF-" at the very start; say so explicitly.
		if bytes.HasPrefix(head, []byte("%PDF-")) {
			return TypePDF
		}
	}
	return ct
}
