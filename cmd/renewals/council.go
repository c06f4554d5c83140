package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

const councilUsage = `usage:
  renewals council list
  renewals council set-contact --council SLUG [--email E] [--phone P] [--public-email E] [--web URL]
                               [--address A] [--hours H] [--decision-days N] [--medical-interval-years N]
  renewals council set-fee --council SLUG --term 1|3 --amount 250.00 --from 2027-04-01
  renewals council set-payment-key --council SLUG   (reads the key from stdin; an empty line removes it)`

// paymentKeyStdin is where set-payment-key reads the key from; run() has no stdin of its own.
var paymentKeyStdin io.Reader = os.Stdin

// councilCmd lists the councils, and sets their contact details, fees and payment key.
func councilCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(councilUsage)
	}
	sub := args[0]
	switch sub {
	case "list", "set-contact", "set-fee", "set-payment-key":
	default:
		return errors.New(councilUsage)
	}
	var slug, email, phone, publicEmail, web, address, hours, amount, from string
	var decisionDays, medicalYears, term int
	extra := func(fs *flag.FlagSet) {
		if sub == "list" {
			return
		}
		fs.StringVar(&slug, "council", "", "the council's slug, e.g. dacorum")
		switch sub {
		case "set-contact":
			fs.StringVar(&email, "email", "", "the licensing team's email address for coverage reports")
			fs.StringVar(&phone, "phone", "", "the licensing team's phone number, shown to drivers")
			fs.StringVar(&publicEmail, "public-email", "", "the licensing team's email address, shown to drivers")
			fs.StringVar(&web, "web", "", "the council's licensing web page (https://…)")
			fs.StringVar(&address, "address", "", "the licensing team's address, on one line")
			fs.StringVar(&hours, "hours", "", "opening hours, e.g. \"Monday to Friday, 9am to 5pm\"")
			fs.IntVar(&decisionDays, "decision-days", 0, "we aim to decide within this many working days")
			fs.IntVar(&medicalYears, "medical-interval-years", 0, "a Group 2 medical certificate is needed when the last medical is older than this")
		case "set-fee":
			fs.IntVar(&term, "term", 0, "the licence term in years: 1 or 3")
			fs.StringVar(&amount, "amount", "", "the fee in pounds, e.g. 250.00")
			fs.StringVar(&from, "from", "", "the date the fee applies from, YYYY-MM-DD (today or later)")
		}
	}
	cfg, st, fs, err := open(ctx, "council "+sub, args[1:], getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	admin := service.SystemActor(cliActor(getenv))
	if sub != "list" && slug == "" {
		return errors.New("council " + sub + " needs --council SLUG")
	}
	switch sub {
	case "set-contact":
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		return councilSetContact(ctx, svc, admin, slug, set, email, domain.CouncilSettings{Phone: phone, PublicEmail: publicEmail,
			WebURL: web, Address: address, OpeningHours: hours, DecisionDays: decisionDays, MedicalIntervalYears: medicalYears}, stdout)
	case "set-fee":
		if term == 0 || amount == "" || from == "" {
			return errors.New("council set-fee needs --council, --term, --amount and --from")
		}
		pence, err := domain.ParsePounds(amount)
		if err != nil {
			return err
		}
		day, err := domain.ParseISODate(from)
		if err != nil {
			return fmt.Errorf("--from must be a date like 2027-04-01: %w", err)
		}
		f, err := svc.SetFee(ctx, admin, slug, term, pence, day)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: the fee for a %d-year licence is %s from %s\n", slug, f.TermYears, f.Display(), f.AppliesFrom.Format("2 January 2006"))
		return nil
	case "set-payment-key":
		// The key is read from stdin so it never appears in the shell history or the process
		// list, and it is never printed back.
		line, err := bufio.NewReader(io.LimitReader(paymentKeyStdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the payment key from stdin: %w", err)
		}
		key := strings.TrimSpace(line)
		if err := svc.SetCouncilPaymentKey(ctx, admin, slug, key); err != nil {
			return err
		}
		if key == "" {
			fmt.Fprintf(stdout, "%s: payment key removed; online payment is off\n", slug)
		} else {
			fmt.Fprintf(stdout, "%s: payment key set\n", slug)
		}
		return nil
	}
	return councilList(ctx, svc, stdout)
}

// councilSetContact changes only the settings whose flags were given.
func councilSetContact(ctx context.Context, svc *service.Service, admin domain.Actor, slug string, given map[string]bool,
	email string, in domain.CouncilSettings, stdout io.Writer) error {
	anyGiven := false
	for _, f := range []string{"email", "phone", "public-email", "web", "address", "hours", "decision-days", "medical-interval-years"} {
		anyGiven = anyGiven || given[f]
	}
	if !anyGiven {
		return errors.New("council set-contact: give at least one of --email, --phone, --public-email, --web, --address, --hours, --decision-days, --medical-interval-years")
	}
	c, err := svc.Council(ctx, slug)
	if err != nil {
		return err
	}
	if given["email"] {
		if c, err = svc.SetCouncilContact(ctx, admin, slug, email); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: reports go to %s\n", c.Name, c.ContactEmail)
	}
	s := c.Settings()
	changed := false
	for name, apply := range map[string]func(){
		"phone": func() { s.Phone = in.Phone }, "public-email": func() { s.PublicEmail = in.PublicEmail },
		"web": func() { s.WebURL = in.WebURL }, "address": func() { s.Address = in.Address },
		"hours": func() { s.OpeningHours = in.OpeningHours }, "decision-days": func() { s.DecisionDays = in.DecisionDays },
		"medical-interval-years": func() { s.MedicalIntervalYears = in.MedicalIntervalYears },
	} {
		if given[name] {
			apply()
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if c, err = svc.UpdateCouncilSettings(ctx, admin, slug, s); err != nil {
		var de *domain.Error
		if errors.As(err, &de) && len(de.Fields) > 0 {
			msgs := make([]string, 0, len(de.Fields))
			for _, m := range de.Fields {
				msgs = append(msgs, m)
			}
			return errors.New(strings.Join(msgs, "; "))
		}
		return err
	}
	fmt.Fprintf(stdout, "%s: %s; decides within %d working days; medical every %d years\n", c.Name, c.ContactText(), c.DecisionDays, c.MedicalIntervalYears)
	return nil
}

func councilList(ctx context.Context, svc *service.Service, stdout io.Writer) error {
	all, err := svc.AllFees(ctx, svc.Today())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SLUG\tNAME\tREPORTS TO\tPHONE\tDECIDES\tFEES TODAY\tPAYMENT")
	for _, cf := range all {
		c := cf.Council
		contact := c.ContactEmail
		if contact == "" {
			contact = "(not set)"
		}
		phone := c.Phone
		if phone == "" {
			phone = "-"
		}
		var fees []string
		for _, f := range cf.Fees {
			fees = append(fees, strconv.Itoa(f.TermYears)+"y "+f.Display())
		}
		if len(fees) == 0 {
			fees = []string{"none"}
		}
		payment := "payment: not set"
		if c.PaymentKeySet {
			payment = "payment: set"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d days\t%s\t%s\n", c.Slug, c.Name, contact, phone, c.DecisionDays, strings.Join(fees, ", "), payment)
	}
	return tw.Flush()
}
