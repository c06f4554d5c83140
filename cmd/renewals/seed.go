package main

import (
	"context"
	"errors"
	"io"
)

// seedCmd builds a synthetic history for reports and benchmarks: renewals seed --synthetic --drivers N.
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("seed: not implemented yet")
}
