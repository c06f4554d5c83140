package main

import (
	"context"
	"errors"
	"io"
)

// importRegisterCmd loads a council's register: renewals import-register --council SLUG FILE.
func importRegisterCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("import-register: not implemented yet")
}

// remindCmd queues reminder emails for licences due to expire: renewals remind.
func remindCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("remind: not implemented yet")
}
