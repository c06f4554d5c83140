package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// cliActor names whoever runs a command in the audit log.
func cliActor(getenv func(string) string) string {
	user := getenv("USER")
	if user == "" {
		user = "unknown"
	}
	return "cli:" + user
}

// flagsFirst lets flags follow the positional arguments ("FILE --dry-run"): Go's flag
// package stops at the first argument that is not a flag, so the command's arguments are
// parsed once to find the positionals, which are then moved to the end.
func flagsFirst(name string, args []string, getenv func(string) string, extra func(*flag.FlagSet)) []string {
	_, fs, err := config.Load(name, args, getenv, io.Discard, extra)
	if err != nil || fs == nil || fs.NArg() <= 1 {
		return args
	}
	rest := fs.Args()
	flags := append([]string(nil), args[:len(args)-len(rest)]...)
	var positional []string
	for len(rest) > 0 {
		positional = append(positional, rest[0])
		_, fs, err = config.Load(name, rest[1:], getenv, io.Discard, extra)
		if err != nil {
			return args
		}
		flags = append(flags, rest[1:len(rest)-fs.NArg()]...)
		rest = fs.Args()
	}
	return append(flags, positional...)
}

// importRegisterCmd loads a council's register: renewals import-register --council SLUG FILE.
func importRegisterCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var council string
	var dryRun bool
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&council, "council", "", "the council whose register this is (its slug, e.g. dacorum)")
		fs.BoolVar(&dryRun, "dry-run", false, "check the file and show what it would change, without writing anything")
	}
	cfg, st, fs, err := open(ctx, "import-register", flagsFirst("import-register", args, getenv, extra), getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	if council == "" || fs.NArg() != 1 {
		return errors.New("usage: renewals import-register --council SLUG [--dry-run] FILE")
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() > service.MaxRegisterFileBytes {
		return fmt.Errorf("%s is %d MB; the limit is %d MB: split the file", path, info.Size()>>20, service.MaxRegisterFileBytes>>20)
	}
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	counted := &countingReader{r: io.LimitReader(f, service.MaxRegisterFileBytes)}
	pp := &progressPrinter{w: stdout, tty: isTerminal(stdout), size: info.Size(), read: counted}
	fmt.Fprintf(stdout, "checking %s (%s) for %s\n", filepath.Base(path), sizeText(info.Size()), council)
	shown := false
	res, err := svc.ImportRegisterFile(ctx, service.RegisterFileImport{CouncilSlug: council, FileName: path, File: counted,
		DryRun: dryRun, By: cliActor(getenv), Progress: pp.report,
		Preview: func(r service.RegisterFileResult) { pp.finish(); printRegisterPreview(stdout, r); shown = true }})
	pp.finish()
	if res.File == nil { // no such council, or the file could not be read
		return err
	}
	if !shown {
		printRegisterPreview(stdout, res)
	}
	if re, ok := domain.RegisterErrorsOf(err); ok {
		for _, p := range re.Problems {
			fmt.Fprintln(stderr, p.String())
		}
		if re.More() > 0 {
			fmt.Fprintf(stderr, "and %d more problems\n", re.More())
		}
		return fmt.Errorf("the file has %d problem(s), so nothing was written", re.Total)
	}
	if err != nil {
		return err
	}
	if dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was written")
		return nil
	}
	a := res.Applied
	fmt.Fprintf(stdout, "loaded into %s's register: %d added, %d updated, %d unchanged; %d on the register but not in the file were kept (import %d)\n",
		res.Council.Name, a.Counts.Added, a.Counts.Updated, a.Counts.Unchanged, a.Counts.Missing, a.ImportID)
	return nil
}

// listed is how many of each list the command prints.
const listed = 20

func printRegisterPreview(w io.Writer, res service.RegisterFileResult) {
	d := res.Diff
	fmt.Fprintf(w, "council: %s (%s)\nsha256: %s\n", res.Council.Name, res.Council.Slug, res.SHA256)
	if !res.File.OK() {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "to add:\t%d\n", len(d.Add))
	fmt.Fprintf(tw, "to update:\t%d\n", len(d.Update))
	fmt.Fprintf(tw, "unchanged:\t%d\n", len(d.Unchanged))
	fmt.Fprintf(tw, "on the register but not in the file (kept):\t%d\n", len(d.Missing))
	fmt.Fprintf(tw, "without an email address:\t%d\n", res.File.NoEmail)
	tw.Flush()
	if !res.SameFileAppliedAt.IsZero() {
		fmt.Fprintf(w, "note: this same file was already loaded on %s UTC\n", res.SameFileAppliedAt.Format("2006-01-02 15:04"))
	}
	if d.Writes() == 0 {
		fmt.Fprintln(w, "the register already matches this file: nothing to change")
	}
	if len(d.Update) > 0 {
		fmt.Fprintln(w, "\nto update:")
		for _, ch := range d.Update[:min(listed, len(d.Update))] {
			var parts []string
			for _, fc := range ch.Changes {
				parts = append(parts, fmt.Sprintf("%s %q -> %q", fc.Field, fc.Old, fc.New))
			}
			fmt.Fprintf(w, "  line %d, %s: %s\n", ch.Line, ch.Driver.LicenceNumber, strings.Join(parts, ", "))
		}
		if len(d.Update) > listed {
			fmt.Fprintf(w, "  and %d more\n", len(d.Update)-listed)
		}
	}
	if len(d.Missing) > 0 {
		fmt.Fprintln(w, "\non the register but not in the file (kept):")
		for _, m := range d.Missing[:min(listed, len(d.Missing))] {
			fmt.Fprintf(w, "  %s %q, expires %s, %s\n", m.LicenceNumber, m.FullName(), m.LicenceExpiry, m.Status)
		}
		if len(d.Missing) > listed {
			fmt.Fprintf(w, "  and %d more\n", len(d.Missing)-listed)
		}
	}
	if len(res.File.Warnings) > 0 {
		fmt.Fprintln(w, "\nwarnings:")
		for _, p := range res.File.Warnings[:min(listed, len(res.File.Warnings))] {
			fmt.Fprintln(w, "  "+p.String())
		}
		if res.File.WarningCount > listed {
			fmt.Fprintf(w, "  and %d more\n", res.File.WarningCount-listed)
		}
	}
	fmt.Fprintln(w)
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// countingReader counts the bytes read, for the progress line.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// isTerminal reports whether w is a terminal (a character device), where progress is one
// line rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressPrinter shows how far an import has got: on a terminal one line per stage, updated
// in place with \r; otherwise a plain line when each stage ends.
type progressPrinter struct {
	w     io.Writer
	tty   bool
	size  int64
	read  *countingReader
	stage string
	done  int
	total int
	shown time.Time
}

func (p *progressPrinter) report(stage string, done, total int) {
	if stage != p.stage {
		p.finish()
		p.stage = stage
	}
	p.done, p.total = done, total
	if p.tty && time.Since(p.shown) > 100*time.Millisecond {
		p.shown = time.Now()
		line := fmt.Sprintf("%s %d/%d rows", p.stage, p.done, p.total)
		if p.stage == "validated" && p.size > 0 {
			line = fmt.Sprintf("validating: %d rows read (%d%% of the file)", p.done, p.read.n*100/p.size)
		}
		fmt.Fprintf(p.w, "\r%-60s", line)
	}
}

// finish prints the final line of the current stage.
func (p *progressPrinter) finish() {
	if p.stage == "" {
		return
	}
	total := p.total
	if p.stage == "validated" {
		total = p.done // the rows read are all the rows
	}
	line := fmt.Sprintf("%s %d/%d rows", p.stage, p.done, total)
	if p.tty {
		fmt.Fprintf(p.w, "\r%-60s\n", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.stage = ""
}

// remindCmd queues reminder emails for licences due to expire: renewals remind.
func remindCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var council string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&council, "council", "", "only this council (its slug); every council when empty")
	}
	cfg, st, fs, err := open(ctx, "remind", args, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	if fs.NArg() != 0 {
		return errors.New("usage: renewals remind [--council SLUG]")
	}
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	run, err := svc.SendReminders(ctx, cliActor(getenv), council)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reminders for %s (licences expiring within %d days)\n", run.Date, domain.ReminderStages[0])
	if run.Total == 0 {
		fmt.Fprintln(stdout, "no reminders due: nothing queued")
		return nil
	}
	names := make([]string, 0, len(run.Counts))
	for n := range run.Counts {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNCIL\t60 DAYS\t30 DAYS\t14 DAYS\tTOTAL")
	for _, n := range names {
		c := run.Counts[n]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", n, c[60], c[30], c[14], c[60]+c[30]+c[14])
	}
	tw.Flush()
	fmt.Fprintf(stdout, "queued %d reminder email(s) in the outbox\n", run.Total)
	return nil
}
