package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// backupCmd takes a consistent online copy of the SQLite database: renewals backup FILE.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	_, st, fs, err := open(ctx, "backup", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" {
		return errors.New("usage: renewals backup FILE [--database PATH]")
	}
	began := time.Now()
	if err := st.Backup(ctx, file); err != nil {
		return err
	}
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up to %s (%d bytes) in %s\n", file, info.Size(), time.Since(began).Round(time.Millisecond))
	return nil
}
