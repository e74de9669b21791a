package fetch

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime"
	"net/http"
	"strings"
)

// sniffBytes is how much of a body (decompressed, when it is gzip) the
// content check looks at: what the WHATWG MIME sniffing algorithm that
// http.DetectContentType implements considers.
const sniffBytes = 512

// notList says why a body is not a number list, or "" when it may be one
// (the compiler then parses it and says what is wrong with each line).
// The heuristics, in order:
//
//   - a Content-Type of text/html or application/xhtml+xml: an error
//     page served with 200 (a captive portal, a proxy, a CDN);
//   - the first 512 bytes (a UTF-8 byte-order mark skipped, gzip
//     decompressed, as the compiler reads gzip by content) sniffed by
//     http.DetectContentType: HTML markup ("<!DOCTYPE html", "<html",
//     "<head", "<body", "<script", ...) or XML after leading whitespace,
//     or binary data (control bytes other than tab, newline, form feed,
//     carriage return and escape; an image, a PDF, a zip). Plain text,
//     which a CSV, TSV or one-number-a-line list is, and UTF-16 text
//     (which the compiler refuses with its own message) pass.
//
// A list whose first 512 bytes hold a control character is refused as
// binary: no list format calldir reads has one.
func notList(contentType string, body io.ReaderAt, size int64) string {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return "an HTML page (Content-Type " + mt + ")"
	}
	head := make([]byte, sniffBytes)
	n, _ := body.ReadAt(head, 0)
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(io.NewSectionReader(body, 0, size))
		if err != nil {
			return "" // the compiler says what is wrong with the gzip data
		}
		inner := make([]byte, sniffBytes)
		n, _ := io.ReadFull(zr, inner)
		return notListText(inner[:n], "gzip-compressed ")
	}
	return notListText(head, "")
}

func notListText(head []byte, gz string) string {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	kind := http.DetectContentType(head)
	mt, _, _ := mime.ParseMediaType(kind)
	switch {
	case mt == "text/plain":
		return ""
	case mt == "text/html":
		return article(gz + "HTML page")
	case mt == "text/xml":
		return article(gz + "XML document")
	}
	return gz + "binary data (" + mt + ")"
}

// article puts "a" or "an" before what, as it is spoken (HTML, XML).
func article(what string) string {
	if strings.HasPrefix(what, "HTML") || strings.HasPrefix(what, "XML") {
		return "an " + what
	}
	return "a " + what
}
