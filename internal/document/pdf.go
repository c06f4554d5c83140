package document

import (
	"bytes"
	"io"
)

// pdfForbidden are the PDF names that make a document run something when opened: script
// (/JavaScript, /JS, which is also how /OpenAction runs script), launching a program (/Launch)
// and files carried inside (/EmbeddedFile, /EmbeddedFiles). A certificate needs none of them.
var pdfForbidden = [][]byte{[]byte("/JavaScript"), []byte("/JS"), []byte("/Launch"), []byte("/EmbeddedFile"), []byte("/RichMedia")}

// pdfCarry is longer than the longest forbidden name plus the byte after it, so a name split
// between two reads is still seen whole.
const pdfCarry = 32

// isPDFDelimiter reports whether c ends a PDF name: white space or a delimiter character.
func isPDFDelimiter(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ', '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// CheckPDF checks a PDF of size bytes read from r: it must start with %PDF-, end with %%EOF
// (trailing white space allowed), and contain none of the names in pdfForbidden. It reads the
// file once, in pieces, and never holds it whole.
//
// Limits: this is a byte scan, not a PDF parser. It does not inflate compressed object
// streams, so a name hidden inside one is not seen, and it does not decode #xx escapes in
// names (/J#53 for /JS). It refuses the obvious cases, which is what a phone's scan or a
// certificate from a GP's software looks like; a virus scanner (see package scan) is the
// second line. A file is only ever served back as an attachment with nosniff.
func CheckPDF(r io.Reader, size int64) error {
	buf := make([]byte, 0, pdfCarry+ChunkSize)
	chunk := make([]byte, ChunkSize)
	first := true
	var tail []byte
	for {
		n, err := io.ReadFull(r, chunk)
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return err
		}
		buf = append(buf, chunk[:n]...)
		if first {
			if !bytes.HasPrefix(buf, []byte("%PDF-")) {
				return refuse(ReasonWrongType, "The file is not a PDF")
			}
			first = false
		}
		// Look at every match that starts where the byte after the name is already read.
		limit := len(buf) - pdfCarry
		if eof {
			limit = len(buf)
		}
		if bad := forbiddenName(buf, limit); bad != "" {
			return refuse(ReasonPDFScript, "The PDF contains "+bad+", which is not allowed. Save or scan the certificate again as a plain PDF, or upload a photo of it")
		}
		if eof {
			tail = buf
			break
		}
		keep := buf[len(buf)-pdfCarry:]
		buf = append(buf[:0], keep...)
	}
	if !bytes.HasSuffix(bytes.TrimRight(tail, " \t\r\n\f\x00"), []byte("%%EOF")) {
		return refuse(ReasonPDFBroken, "The PDF is incomplete: it does not end as a PDF should. Save or download it again")
	}
	return nil
}

// forbiddenName returns the first forbidden name that starts before limit in buf, or "".
func forbiddenName(buf []byte, limit int) string {
	for _, name := range pdfForbidden {
		from := 0
		for {
			i := bytes.Index(buf[from:], name)
			if i < 0 {
				break
			}
			i += from
			if i >= limit {
				break
			}
			end := i + len(name)
			// "/JS" must be the whole name (not "/JSON"); "/EmbeddedFile" also catches "/EmbeddedFiles".
			if end >= len(buf) || isPDFDelimiter(buf[end]) || bytes.Equal(name, []byte("/EmbeddedFile")) {
				return string(name)
			}
			from = i + 1
		}
	}
	return ""
}
