package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"
)

// versionCmd prints what the binary was built from: the module version, the VCS revision and
// time (when the build stamped them: go build in a git checkout, -buildvcs not false), and
// the Go version.
func versionCmd(stdout io.Writer) int {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(stdout, "renewals: no build information in this binary")
		return 1
	}
	fmt.Fprint(stdout, versionText(bi))
	return 0
}

func versionText(bi *debug.BuildInfo) string {
	setting := func(key string) string {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
		return ""
	}
	orUnknown := func(v string) string {
		if v == "" {
			return "unknown (built without VCS information)"
		}
		return v
	}
	revision := setting("vcs.revision")
	if revision != "" && setting("vcs.modified") == "true" {
		revision += " (with uncommitted changes)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "renewals %s\n", bi.Main.Version)
	fmt.Fprintf(&b, "module:   %s\n", bi.Main.Path)
	fmt.Fprintf(&b, "revision: %s\n", orUnknown(revision))
	fmt.Fprintf(&b, "time:     %s\n", orUnknown(setting("vcs.time")))
	fmt.Fprintf(&b, "go:       %s\n", bi.GoVersion)
	return b.String()
}

// wantsHelp reports whether args ask for help (-h, -help or --help) before any "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "-h" || a == "-help" || a == "--help" {
			return true
		}
	}
	return false
}

// withSubcommands are the commands whose first word names what to do.
var withSubcommands = []string{"leaflet", "user", "audit", "council"}

// helpArgs keeps a command's subcommand word (user add, council set-fee) and the help flag,
// and drops the rest, so asking for help never runs anything: a flag after a file name would
// otherwise not be parsed, and the command would go ahead.
func helpArgs(cmd string, args []string) []string {
	if slices.Contains(withSubcommands, cmd) && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return []string{args[0], "--help"}
	}
	return []string{"--help"}
}
