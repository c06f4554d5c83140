// Package views holds the HTML templates and static files, embedded into the binary.
package views

import "embed"

// Templates holds layouts/, partials/ and pages/.
//
//go:embed layouts partials pages
var Templates embed.FS

// Static holds the stylesheet and other files served under /static/.
//
//go:embed static
var Static embed.FS
