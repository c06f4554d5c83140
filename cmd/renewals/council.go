package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/herts-msp/taxi-renewals/internal/service"
)

// councilCmd lists the councils and sets where their reports are sent:
// renewals council list | renewals council set-contact --council SLUG --email E.
func councilCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "set-contact") {
		return errors.New("usage: renewals council list | renewals council set-contact --council SLUG --email E")
	}
	sub := args[0]
	var slug, email string
	extra := func(fs *flag.FlagSet) {
		if sub == "set-contact" {
			fs.StringVar(&slug, "council", "", "the council's slug, e.g. dacorum")
			fs.StringVar(&email, "email", "", "the licensing team's email address for coverage reports")
		}
	}
	cfg, st, _, err := open(ctx, "council "+sub, args[1:], getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	if sub == "set-contact" {
		if slug == "" || email == "" {
			return errors.New("council set-contact needs --council and --email")
		}
		c, err := svc.SetCouncilContact(ctx, service.SystemActor("cli:"+getenv("USER")), slug, email)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: reports go to %s\n", c.Name, c.ContactEmail)
		return nil
	}
	councils, err := svc.Councils(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tREPORTS TO")
	for _, c := range councils {
		contact := c.ContactEmail
		if contact == "" {
			contact = "(not set)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Slug, c.Name, contact)
	}
	return tw.Flush()
}
