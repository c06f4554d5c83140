// Package report calculates awareness coverage exactly as DESIGN §4 defines it, and encodes it.
package report
