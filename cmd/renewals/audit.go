package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// auditCmd checks the audit log: renewals audit verify.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: renewals audit verify")
	}
	_, st, _, err := open(ctx, "audit verify", args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if v.FirstBrokenID != 0 {
		return fmt.Errorf("audit log is NOT intact after checking %d entries: %s", v.Checked, v.Problem)
	}
	fmt.Fprintf(stdout, "audit log intact: %d entries checked\n", v.Checked)
	return nil
}
