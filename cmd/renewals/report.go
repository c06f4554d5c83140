package main

import (
	"context"
	"errors"
	"io"
)

// reportCmd writes each council's coverage report: renewals report --period 2026-10.
func reportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("report: not implemented yet")
}
