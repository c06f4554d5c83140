package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/store"
)

// coverageCmd looks after the coverage report's summaries, which every write keeps up to date:
//
//	renewals coverage rebuild   rebuild them from the raw tables (after a restore, or to be sure)
//	renewals coverage verify    compare them with a fresh build; exit 1 on any difference
func coverageCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "rebuild" && args[0] != "verify") {
		return errors.New("usage: renewals coverage rebuild|verify")
	}
	sub := args[0]
	_, st, _, err := open(ctx, "coverage "+sub, args[1:], getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if sub == "rebuild" {
		took, err := st.RebuildCoverageSummary(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "rebuilt the coverage summaries in %.1fs\n", took.Seconds())
		return nil
	}
	diffs, err := st.VerifyCoverageSummary(ctx)
	if err != nil {
		return err
	}
	for _, d := range diffs {
		fmt.Fprintln(stdout, d)
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the coverage summaries differ from a fresh build in %d places (run \"renewals coverage rebuild\")", len(diffs))
	}
	fmt.Fprintln(stdout, "the coverage summaries equal a fresh build")
	return nil
}

// coverageFoldEvery is how often "serve" folds the coverage deltas that writes append into the
// summaries (store.FoldCoverageDeltas). Reports count unfolded deltas too; folding keeps them few.
const coverageFoldEvery = 2 * time.Second

// coverageFoldLoop folds the coverage deltas every interval until ctx ends.
func coverageFoldLoop(ctx context.Context, st *store.Store, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := st.FoldCoverageDeltas(ctx); err != nil && ctx.Err() == nil {
				log.Error("fold coverage deltas", "error", err.Error())
			}
		}
	}
}
