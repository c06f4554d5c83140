// Command loadtest measures the service under load: concurrent virtual drivers walk the whole
// online renewal over real HTTP against the real service and, taking turns with them in the same
// run, as many clients hammer a bare Echo handler that renders a page and inserts a row into the
// same kind of database. It prints throughput, latency percentiles and errors for both, and
// their ratio.
//
//	go run ./cmd/loadtest [-drivers 32] [-duration 60s] [-database FILE|postgres://…]
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // Europe/London, as the service needs, on a machine without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
