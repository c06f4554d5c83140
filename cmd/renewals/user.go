package main

import (
	"context"
	"errors"
	"io"
)

// userCmd manages staff accounts: renewals user add|list|disable.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("user: not implemented yet")
}
