package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// The container's HEALTHCHECK runs "renewals healthcheck" with the image's environment: it must
// find the server on whatever RENEWALS_ADDR says, wildcard hosts included, and fail when
// nothing answers there.
func TestHealthcheckFollowsTheListenAddress(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "health.db")
	serveFor(t, []string{"--database", dbPath}, func(base, _ string) {
		_, port, err := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		check := func(env map[string]string, args ...string) (int, string) {
			t.Helper()
			var out, errOut syncBuffer
			code := run(context.Background(), append([]string{"healthcheck"}, args...), func(k string) string {
				if v, ok := env[k]; ok {
					return v
				}
				return noEnv(k)
			}, &out, &errOut)
			return code, out.String() + errOut.String()
		}
		for _, addr := range []string{"0.0.0.0:" + port, "127.0.0.1:" + port, ":" + port, "[::]:" + port} {
			if code, out := check(map[string]string{"RENEWALS_ADDR": addr}); code != 0 {
				t.Errorf("RENEWALS_ADDR=%s: exit %d, want 0\n%s", addr, code, out)
			}
		}
		if code, out := check(nil, "--addr", "0.0.0.0:"+port); code != 0 {
			t.Errorf("--addr: exit %d, want 0\n%s", code, out)
		}
		if code, out := check(nil, "--url", base+"/healthz"); code != 0 {
			t.Errorf("--url: exit %d, want 0\n%s", code, out)
		}
		if code, out := check(nil, "--url", base+"/no-such-page"); code != 1 || !strings.Contains(out, "404") {
			t.Errorf("--url to a 404: exit %d, want 1 naming the status\n%s", code, out)
		}
		closed := freeAddr(t) // nothing listens there
		if code, out := check(map[string]string{"RENEWALS_ADDR": closed}); code != 1 || !strings.Contains(out, "refused") {
			t.Errorf("RENEWALS_ADDR=%s with no server: exit %d, want 1 saying the connection was refused\n%s", closed, code, out)
		}
	})
}

func TestHealthURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"0.0.0.0:8080":       "http://127.0.0.1:8080/healthz",
		":9000":              "http://127.0.0.1:9000/healthz",
		"[::]:8080":          "http://127.0.0.1:8080/healthz",
		"localhost:8080":     "http://localhost:8080/healthz",
		"10.1.2.3:8443":      "http://10.1.2.3:8443/healthz",
		"[2001:db8::1]:8080": "http://[2001:db8::1]:8080/healthz",
	} {
		if got := healthURL(addr); got != want {
			t.Errorf("healthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
