package main

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// maxProblems is how many error messages a run keeps to show; all are counted.
const maxProblems = 10

// recorder collects one worker's measurements; workers never share one, so it needs no lock.
type recorder struct {
	steps     map[string][]time.Duration
	order     []string // steps in the order first seen, for the report
	journeys  []time.Duration
	codeWaits []time.Duration
	errors    int
	problems  []string
}

func newRecorder() *recorder { return &recorder{steps: map[string][]time.Duration{}} }

func (r *recorder) request(step string, d time.Duration) {
	if _, seen := r.steps[step]; !seen {
		r.order = append(r.order, step)
	}
	r.steps[step] = append(r.steps[step], d)
}

func (r *recorder) fail(err error) {
	r.errors++
	if len(r.problems) < maxProblems {
		r.problems = append(r.problems, err.Error())
	}
}

func (r *recorder) journeyDone(d time.Duration) { r.journeys = append(r.journeys, d) }
func (r *recorder) codeWaited(d time.Duration)  { r.codeWaits = append(r.codeWaits, d) }

func (r *recorder) merge(o *recorder) {
	for _, step := range o.order {
		if _, seen := r.steps[step]; !seen {
			r.order = append(r.order, step)
		}
		r.steps[step] = append(r.steps[step], o.steps[step]...)
	}
	r.journeys = append(r.journeys, o.journeys...)
	r.codeWaits = append(r.codeWaits, o.codeWaits...)
	r.errors += o.errors
	for _, p := range o.problems {
		if len(r.problems) < maxProblems {
			r.problems = append(r.problems, p)
		}
	}
}

// stepResult is one kind of request's count and latency.
type stepResult struct {
	Step     string
	Requests int
	Latency  percentiles
}

// phaseResult is what one part of the run measured.
type phaseResult struct {
	Elapsed  time.Duration
	CPU      time.Duration // CPU time of the whole process (server and clients) during the part
	Requests int
	Errors   int
	Problems []string
	Latency  percentiles
	Steps    []stepResult
}

func (p phaseResult) perSecond(n int) float64 { return float64(n) / p.Elapsed.Seconds() }

func (r *recorder) result(elapsed time.Duration) phaseResult {
	res := phaseResult{Elapsed: elapsed, Errors: r.errors, Problems: r.problems}
	var all []time.Duration
	for _, step := range r.order {
		ds := r.steps[step]
		all = append(all, ds...)
		res.Steps = append(res.Steps, stepResult{Step: step, Requests: len(ds), Latency: percentilesOf(ds)})
	}
	res.Requests = len(all)
	res.Latency = percentilesOf(all)
	return res
}

// percentiles of a set of durations, by the nearest-rank method.
type percentiles struct {
	P50, P90, P99, Max time.Duration
}

func percentilesOf(ds []time.Duration) percentiles {
	if len(ds) == 0 {
		return percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) time.Duration { return s[max(int(math.Ceil(q*float64(len(s))))-1, 0)] }
	return percentiles{P50: rank(0.50), P90: rank(0.90), P99: rank(0.99), Max: s[len(s)-1]}
}

func (p percentiles) String() string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// writesOf counts the service's requests that write to the database (see stepWrites).
func writesOf(steps []stepResult) int {
	n, signIns, firstVisits := 0, 0, 0
	for _, s := range steps {
		switch stepWrites(s.Step) {
		case "yes":
			n += s.Requests
		case "first":
			firstVisits = s.Requests
		}
		if s.Step == "POST /renew/code" {
			signIns = s.Requests
		}
	}
	return n + min(signIns, firstVisits)
}

// printReport writes the figures of a run.
func printReport(w io.Writer, opts options, r results) {
	s := r.Service
	fmt.Fprintf(w, "\nService: the driver's journey (%s, %d virtual drivers, %s in %d turns)\n", r.Dialect, opts.Drivers, opts.Duration, opts.Rounds)
	fmt.Fprintf(w, "  requests    %d in %.1f s = %.1f requests/s (%d of them write to the database: %.0f%%)\n",
		s.Requests, s.Elapsed.Seconds(), s.perSecond(s.Requests), writesOf(s.Steps), 100*float64(writesOf(s.Steps))/float64(max(s.Requests, 1)))
	printCPU(w, s.phaseResult)
	fmt.Fprintf(w, "  journeys    %d completed = %.2f journeys/s\n", s.Journeys, s.perSecond(s.Journeys))
	fmt.Fprintf(w, "  errors      %d\n", s.Errors)
	fmt.Fprintf(w, "  latency     %s (every request)\n", s.Latency)
	fmt.Fprintf(w, "  journey     %s (start page to confirmation)\n", percentilesOf(s.JourneyTimes))
	fmt.Fprintf(w, "  code wait   %s (the outbox emailing the code; not a request)\n", percentilesOf(s.CodeWaits))
	if s.RanOut {
		fmt.Fprintf(w, "  WARNING     every seeded driver was used before the end: raise -seed-drivers\n")
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  step\trequests\twrites\tp50\tp90\tp99\tmax\t")
	for _, st := range s.Steps {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", st.Step, st.Requests, stepWrites(st.Step), ms(st.Latency.P50), ms(st.Latency.P90), ms(st.Latency.P99), ms(st.Latency.Max))
	}
	tw.Flush()
	printProblems(w, s.Problems, s.Errors)

	if r.Bare == nil {
		return
	}
	b := *r.Bare
	fmt.Fprintf(w, "\nBare Echo handler: html/template page + one INSERT (%s, %d clients, %s in %d turns)\n", r.Dialect, opts.Drivers, opts.Duration, opts.Rounds)
	fmt.Fprintf(w, "  requests    %d in %.1f s = %.1f requests/s (every one writes)\n", b.Requests, b.Elapsed.Seconds(), b.perSecond(b.Requests))
	printCPU(w, b)
	fmt.Fprintf(w, "  errors      %d\n", b.Errors)
	fmt.Fprintf(w, "  latency     %s\n", b.Latency)
	printProblems(w, b.Problems, b.Errors)

	ratio := s.perSecond(s.Requests) / b.perSecond(b.Requests)
	verdict := "meets the target of at least 0.5"
	if ratio < 0.5 {
		verdict = "BELOW the target of 0.5"
	}
	fmt.Fprintf(w, "\nService / bare, requests per second: %.2f (%s)\n", ratio, verdict)
}

// printCPU shows how busy the process kept the machine's cores, to tell an I/O-bound part
// from a CPU-bound one.
func printCPU(w io.Writer, p phaseResult) {
	fmt.Fprintf(w, "  CPU         %.1f s of process CPU time in %.1f s on %d cores (%.0f%% of the machine)\n",
		p.CPU.Seconds(), p.Elapsed.Seconds(), runtime.NumCPU(), 100*p.CPU.Seconds()/p.Elapsed.Seconds()/float64(runtime.NumCPU()))
}

func printProblems(w io.Writer, problems []string, total int) {
	if total == 0 {
		return
	}
	fmt.Fprintf(w, "  first errors:\n    %s\n", strings.Join(problems, "\n    "))
}
