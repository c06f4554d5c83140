//go:build race

package report_test

// raceOn: the race detector makes the linear programmes of the suppression tests about ten
// times slower; they check a logic property that has no concurrency in it, so they check fewer
// random reports per seed under it.
const raceOn = true
