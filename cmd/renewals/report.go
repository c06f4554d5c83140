package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/web"
)

// reportCmd writes each council's coverage report: renewals report --period 2026-10 [--out DIR].
// For every council it writes SLUG.html (printable, self-contained) and SLUG.csv into DIR
// (default reports/PERIOD), then queues an email to the council's licensing contact through
// the outbox; a council without a contact address is skipped, and the command says so.
func reportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var period, out string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&period, "period", "", "the period: a month (2026-10), a quarter (2026-Q4) or a year (2026)")
		fs.StringVar(&out, "out", "", "the folder to write into (default reports/PERIOD)")
	}
	cfg, st, fs, err := open(ctx, "report", args, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	period = strings.TrimSpace(period)
	if period == "" || fs.NArg() != 0 {
		return errors.New("usage: renewals report --period 2026-10 [--out DIR]")
	}
	if out == "" {
		out = filepath.Join("reports", strings.NewReplacer("/", "-", "..", "_").Replace(period))
	}
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	runs, err := svc.CouncilReports(ctx, period)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o750); err != nil {
		return err
	}
	queued, skipped := 0, 0
	for _, r := range runs {
		var html, csv bytes.Buffer
		if err := web.WriteCouncilReportHTML(&html, r.Result, svc.Location()); err != nil {
			return fmt.Errorf("%s: %w", r.Council.Slug, err)
		}
		if err := report.WriteCSV(&csv, r.Result.Report, r.Result.ExportOptions()); err != nil {
			return fmt.Errorf("%s: %w", r.Council.Slug, err)
		}
		files := []string{filepath.Join(out, r.Council.Slug+".html"), filepath.Join(out, r.Council.Slug+".csv")}
		if err := os.WriteFile(files[0], html.Bytes(), 0o640); err != nil {
			return err
		}
		if err := os.WriteFile(files[1], csv.Bytes(), 0o640); err != nil {
			return err
		}
		ok, err := svc.QueueCouncilReportEmail(ctx, r.Council, r.Result.Title, []string{filepath.Base(files[0]), filepath.Base(files[1])})
		if err != nil {
			return err
		}
		status := "email queued to " + r.Council.ContactEmail
		if ok {
			queued++
		} else {
			skipped++
			status = "no email: the council has no licensing contact address (councils.contact_email)"
		}
		fmt.Fprintf(stdout, "%s: wrote %s and %s; %s\n", r.Council.Name, files[0], files[1], status)
	}
	fmt.Fprintf(stdout, "%d council reports for %s written to %s; %d emails queued, %d councils skipped without a contact address\n",
		len(runs), period, out, queued, skipped)
	return nil
}
