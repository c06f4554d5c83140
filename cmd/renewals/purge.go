package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/herts-msp/taxi-renewals/internal/service"
)

// purgeCmd removes personal data past the retention period: renewals purge [--years N] [--apply].
// It is a dry run unless --apply is given.
func purgeCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var years int
	var apply bool
	extra := func(fs *flag.FlagSet) {
		fs.IntVar(&years, "years", 6, "keep personal data for this many years after a licence ends")
		fs.BoolVar(&apply, "apply", false, "remove the data (without it, only count: a dry run)")
	}
	cfg, st, _, err := open(ctx, "purge", args, getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	res, err := svc.PurgePersonalData(ctx, service.SystemActor("cli:"+getenv("USER")), years, apply)
	if err != nil {
		return err
	}
	switch {
	case res.Applied:
		fmt.Fprintf(stdout, "removed the personal data of %d drivers whose licence ended before %s (recorded in the audit log)\n", res.Drivers, res.Cutoff)
	case apply:
		fmt.Fprintf(stdout, "nothing to remove: no licence ended before %s\n", res.Cutoff)
	default:
		fmt.Fprintf(stdout, "dry run: %d drivers' personal data would be removed (licence ended before %s); run again with --apply\n", res.Drivers, res.Cutoff)
	}
	return nil
}
