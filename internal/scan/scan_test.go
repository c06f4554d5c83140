package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// eicar is the EICAR anti-virus test file, which every scanner reports as a virus. It is
// assembled here so this source file is not itself flagged.
var eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

// fakeClamd is a TCP listener that speaks clamd's zINSTREAM protocol: it reads the command and
// the length-prefixed chunks, and answers as clamd does, finding EICAR. behave changes it.
type fakeClamd struct {
	ln       net.Listener
	received chan []byte
}

func startFake(t *testing.T, behave func(conn net.Conn, stream []byte) bool) *fakeClamd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeClamd{ln: ln, received: make(chan []byte, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				stream, ok := readStream(conn)
				if !ok {
					return
				}
				f.received <- stream
				if behave != nil && behave(conn, stream) {
					return
				}
				if bytes.Contains(stream, []byte(eicar)) {
					conn.Write([]byte("stream: Eicar-Signature FOUND\x00"))
				} else {
					conn.Write([]byte("stream: OK\x00"))
				}
			}()
		}
	}()
	return f
}

func readStream(conn net.Conn) ([]byte, bool) {
	cmd := make([]byte, len("zINSTREAM\x00"))
	if _, err := io.ReadFull(conn, cmd); err != nil || string(cmd) != "zINSTREAM\x00" {
		conn.Write([]byte("UNKNOWN COMMAND\x00"))
		return nil, false
	}
	var stream []byte
	for {
		var size [4]byte
		if _, err := io.ReadFull(conn, size[:]); err != nil {
			return nil, false
		}
		n := binary.BigEndian.Uint32(size[:])
		if n == 0 {
			return stream, true
		}
		chunk := make([]byte, n)
		if _, err := io.ReadFull(conn, chunk); err != nil {
			return nil, false
		}
		stream = append(stream, chunk...)
	}
}

func TestClamdAgainstAProtocolListener(t *testing.T) {
	big := bytes.Repeat([]byte("abcdefgh"), 100_000) // 800 KB: many chunks
	tests := []struct {
		name      string
		behave    func(net.Conn, []byte) bool
		content   []byte
		want      Result
		wantUnav  bool
		wantBytes int
	}{
		{name: "clean file", content: []byte("hello"), want: Result{Clean: true, Detail: "stream: OK"}, wantBytes: 5},
		{name: "clean file in many chunks", content: big, want: Result{Clean: true, Detail: "stream: OK"}, wantBytes: len(big)},
		{name: "EICAR found", content: []byte("prefix " + eicar), want: Result{Virus: "Eicar-Signature", Detail: "stream: Eicar-Signature FOUND"}, wantBytes: len(eicar) + 7},
		{name: "clamd error", behave: func(c net.Conn, _ []byte) bool {
			c.Write([]byte("INSTREAM size limit exceeded. ERROR\x00"))
			return true
		}, content: []byte("x"), wantUnav: true, wantBytes: 1},
		{name: "garbage reply", behave: func(c net.Conn, _ []byte) bool {
			c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
			return true
		}, content: []byte("x"), wantUnav: true, wantBytes: 1},
		{name: "connection closed without a reply", behave: func(net.Conn, []byte) bool { return true }, content: []byte("x"), wantUnav: true, wantBytes: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, tt.behave)
			c := NewClamd(f.ln.Addr().String())
			c.ChunkSize = 4096
			got, err := c.Scan(context.Background(), bytes.NewReader(tt.content))
			if tt.wantUnav {
				if !errors.Is(err, ErrUnavailable) {
					t.Fatalf("err = %v, want ErrUnavailable", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("result %+v, want %+v", got, tt.want)
			}
			if stream := <-f.received; len(stream) != tt.wantBytes {
				t.Errorf("clamd received %d bytes, want %d", len(stream), tt.wantBytes)
			}
		})
	}
}

func TestClamdUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = NewClamd(addr).Scan(context.Background(), strings.NewReader("x"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestClamdSlowReplyHitsTheDeadline(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f := startFake(t, func(net.Conn, []byte) bool { <-release; return true })
	c := NewClamd(f.ln.Addr().String())
	c.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := c.Scan(context.Background(), strings.NewReader("x"))
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a slow scanner held the upload for %v", took)
	}
	// The request's own deadline counts too.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	c.Timeout = time.Minute
	start = time.Now()
	if _, err := c.Scan(ctx, strings.NewReader("x")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the request deadline was not applied: %v", took)
	}
}

// TestRealClamd runs against a real clamd when RENEWALS_TEST_CLAMD_ADDR names one (host:port).
// clamd needs a signature database; with no internet here, a one-line local database with the
// MD5 of the EICAR file is enough (see the README), and the detected name is whatever it says.
func TestRealClamd(t *testing.T) {
	addr := os.Getenv("RENEWALS_TEST_CLAMD_ADDR")
	if addr == "" {
		t.Skip("RENEWALS_TEST_CLAMD_ADDR not set")
	}
	c := NewClamd(addr)
	got, err := c.Scan(context.Background(), strings.NewReader("a clean certificate"))
	if err != nil || !got.Clean {
		t.Fatalf("clean file: %+v %v", got, err)
	}
	got, err = c.Scan(context.Background(), strings.NewReader(eicar))
	if err != nil || got.Clean || got.Virus == "" {
		t.Fatalf("EICAR: %+v %v", got, err)
	}
	t.Logf("clamd said %q", got.Detail)
}
