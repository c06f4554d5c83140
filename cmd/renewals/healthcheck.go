package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/config"
)

// healthcheck exits 0 when the service's /healthz answers 200. It asks the address the server
// listens on, read as serve reads it (--addr, $RENEWALS_ADDR, or the default), so a container's
// HEALTHCHECK follows RENEWALS_ADDR rather than naming a port of its own. --url overrides.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	var target string
	cfg, _, err := config.Load("healthcheck", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&target, "url", "", "health URL to check (default: /healthz on the listen address, --addr or $RENEWALS_ADDR)")
	})
	if err != nil {
		return err
	}
	if target == "" {
		target = healthURL(cfg.Addr)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check %s: %s", target, resp.Status)
	}
	return nil
}

// healthURL is /healthz on a listen address as seen from the same host: a wildcard host
// (0.0.0.0, ::, or none, as in ":8080") is reached on the loopback address.
func healthURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/healthz" // not host:port: the request names the problem
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}
