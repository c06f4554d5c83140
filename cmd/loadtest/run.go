package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/store"
)

// options are the load test's settings.
type options struct {
	Database    string        // SQLite file or postgres:// URL; empty: a SQLite file in a temp directory
	Drivers     int           // concurrent virtual drivers, and as many clients for the bare handler
	Duration    time.Duration // how long each part runs, in all
	Rounds      int           // turns each part takes, alternately
	SeedDrivers int           // drivers put on the councils' registers before the run
	Bare        bool          // also measure the bare handler
	CPUProfile  string        // where to write a CPU profile of the run; empty: none
	ServerLog   string        // where the service's log goes; empty: a file in the temp directory
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.Database, "database", "", "a SQLite file or a postgres:// URL; the run leaves its drivers and renewals there (default: a SQLite file in a temp directory, removed afterwards)")
	fs.IntVar(&o.Drivers, "drivers", 32, "concurrent virtual drivers (and clients of the bare handler)")
	fs.DurationVar(&o.Duration, "duration", 60*time.Second, "how long each part runs, in all")
	fs.IntVar(&o.Rounds, "rounds", 6, "the parts take this many turns each, alternately, so that other load on the machine falls on both alike")
	fs.IntVar(&o.SeedDrivers, "seed-drivers", 20000, "drivers on the registers; each journey uses a new one")
	fs.BoolVar(&o.Bare, "bare", true, "also measure the bare Echo handler, for comparison")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file, for go tool pprof (with -bare=false, of the service alone)")
	fs.StringVar(&o.ServerLog, "server-log", "", "file for the service's request log (default: in the temp directory, removed afterwards)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.Drivers < 1 || o.Duration <= 0 || o.SeedDrivers < 1 || o.Rounds < 1 {
		return o, errors.New("-drivers, -duration, -seed-drivers and -rounds must be positive")
	}
	return o, nil
}

// run is the whole program; main only wires it to the process. Tests call loadTest directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 2
	}
	res, err := loadTest(ctx, opts, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return 1
	}
	printReport(stdout, opts, res)
	if !res.clean() {
		return 1
	}
	return 0
}

// results are what one run measured.
type results struct {
	Dialect string
	Service journeyResult
	Bare    *phaseResult // nil when the bare part was not run
}

// clean reports whether the run had no errors and measured what it was asked to.
func (r results) clean() bool {
	ok := r.Service.Errors == 0 && !r.Service.RanOut && r.Service.Journeys > 0
	if r.Bare != nil {
		ok = ok && r.Bare.Errors == 0 && r.Bare.Requests > 0
	}
	return ok
}

// loadTest measures the service and the bare handler. The two take turns (opts.Rounds each,
// service first) rather than running at once, so they never compete for the machine, and
// whatever else the machine is doing weighs on both alike. progress gets a line at each stage.
func loadTest(ctx context.Context, opts options, progress io.Writer) (results, error) {
	dir, err := os.MkdirTemp("", "renewals-loadtest-")
	if err != nil {
		return results{}, err
	}
	defer os.RemoveAll(dir)
	database := opts.Database
	if database == "" {
		database = filepath.Join(dir, "renewals.db")
	}
	res := results{Dialect: dialectOf(database)}

	logPath := opts.ServerLog
	if logPath == "" {
		logPath = filepath.Join(dir, "server.log")
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return res, err
	}
	defer logFile.Close()

	fmt.Fprintf(progress, "starting the service on %s (%s)\n", res.Dialect, redact(database))
	live, err := startService(ctx, database, logFile)
	if err != nil {
		return res, err
	}
	defer live.stop()
	drivers, lv, err := seed(ctx, live, opts.SeedDrivers)
	if err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "seeded %d drivers across %d councils; leaflet %q\n", len(drivers), countCouncils(drivers), lv.Version)
	var bare *bareApp
	if opts.Bare {
		if bare, err = startBare(ctx, database); err != nil {
			return res, err
		}
		defer bare.stop()
	}
	stopProfile, err := startProfile(opts.CPUProfile)
	if err != nil {
		return res, err
	}
	defer stopProfile()

	photo, err := makePhoto()
	if err != nil {
		return res, err
	}
	turn := opts.Duration / time.Duration(opts.Rounds)
	jr := startJourneys(ctx, live, drivers, lv, photo, opts.Drivers)
	var serviceTime, serviceCPU, bareTime, bareCPU time.Duration
	bareRec := newRecorder()
	for round := 1; round <= opts.Rounds && ctx.Err() == nil; round++ {
		fmt.Fprintf(progress, "round %d of %d: %d virtual drivers for %s", round, opts.Rounds, opts.Drivers, turn)
		cpu := processCPU()
		serviceTime += jr.turn(ctx, turn)
		serviceCPU += processCPU() - cpu
		if bare != nil {
			fmt.Fprintf(progress, ", then %d clients of the bare handler for %s", opts.Drivers, turn)
			cpu = processCPU()
			rec, elapsed := bareTurn(ctx, bare.URL, opts.Drivers, turn)
			bareCPU += processCPU() - cpu
			bareRec.merge(rec)
			bareTime += elapsed
		}
		fmt.Fprintln(progress)
	}
	res.Service = jr.finish(serviceTime)
	res.Service.CPU = serviceCPU
	if bare != nil {
		b := bareRec.result(bareTime)
		b.CPU = bareCPU
		res.Bare = &b
	}
	return res, ctx.Err()
}

func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// processCPU is the CPU time this process (server and clients alike) has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func dialectOf(database string) string {
	if store.IsPostgresURL(database) {
		return "PostgreSQL"
	}
	return "SQLite"
}

// redact hides a password in a database URL before it is printed.
func redact(database string) string {
	if !store.IsPostgresURL(database) {
		return database
	}
	scheme, rest, _ := strings.Cut(database, "://")
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
			return scheme + "://" + user + ":***" + rest[at:]
		}
	}
	return database
}
