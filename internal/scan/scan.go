// Package scan checks uploaded files for viruses. Scanner is the interface the service uses;
// Clamd is a client of ClamAV's daemon speaking its INSTREAM command over TCP. Scanning is off
// unless an address is configured.
package scan

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Result is a scanner's verdict on one file.
type Result struct {
	Clean bool
	// Virus names what was found when Clean is false.
	Virus string
	// Detail is the scanner's own answer, for the record (e.g. "stream: OK").
	Detail string
}

// Scanner scans a file read from r.
type Scanner interface {
	Scan(ctx context.Context, r io.Reader) (Result, error)
}

// ErrUnavailable means the scanner could not be reached or did not answer in time: the upload
// cannot be checked now, so it is not stored.
var ErrUnavailable = errors.New("virus scanner unavailable")

// Clamd talks to clamd at Addr (host:port).
type Clamd struct {
	Addr string
	// DialTimeout bounds connecting; Timeout bounds the whole scan once connected.
	DialTimeout time.Duration
	Timeout     time.Duration
	// ChunkSize is how much of the file each INSTREAM chunk carries. clamd refuses a stream
	// longer than its StreamMaxLength (25 MB by default), far above our 10 MB uploads.
	ChunkSize int
}

// NewClamd returns a client with sensible limits: 5 s to connect, 60 s to scan.
func NewClamd(addr string) *Clamd {
	return &Clamd{Addr: addr, DialTimeout: 5 * time.Second, Timeout: 60 * time.Second, ChunkSize: 64 * 1024}
}

// Scan sends r to clamd with "zINSTREAM": chunks of a 4-byte big-endian length then the data,
// ended by a zero length, and reads one NUL-terminated reply: "stream: OK", "stream: <name>
// FOUND" or "... ERROR". Any failure to talk to clamd is ErrUnavailable (wrapped).
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (Result, error) {
	d := net.Dialer{Timeout: c.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(c.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	if err := conn.SetDeadline(deadline); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	w := bufio.NewWriterSize(conn, c.chunk()+4)
	if _, err := w.WriteString("zINSTREAM\x00"); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	buf := make([]byte, c.chunk())
	var size [4]byte
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			binary.BigEndian.PutUint32(size[:], uint32(n))
			if _, err := w.Write(size[:]); err != nil {
				return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return Result{}, rerr // reading our own file failed: not the scanner's fault
		}
	}
	binary.BigEndian.PutUint32(size[:], 0)
	if _, err := w.Write(size[:]); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if err := w.Flush(); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	reply, err := bufio.NewReaderSize(io.LimitReader(conn, 4096), 4096).ReadString(0)
	if err != nil && !(errors.Is(err, io.EOF) && reply != "") {
		return Result{}, fmt.Errorf("%w: reading the reply: %v", ErrUnavailable, err)
	}
	return parseReply(strings.TrimRight(reply, "\x00\n"))
}

func (c *Clamd) chunk() int {
	if c.ChunkSize <= 0 {
		return 64 * 1024
	}
	return c.ChunkSize
}

// parseReply reads clamd's answer to one stream.
func parseReply(reply string) (Result, error) {
	body := strings.TrimPrefix(reply, "stream: ")
	switch {
	case body == "OK":
		return Result{Clean: true, Detail: reply}, nil
	case strings.HasSuffix(body, " FOUND"):
		return Result{Clean: false, Virus: strings.TrimSuffix(body, " FOUND"), Detail: reply}, nil
	case strings.HasSuffix(body, " ERROR"):
		return Result{}, fmt.Errorf("%w: clamd: %s", ErrUnavailable, reply)
	}
	return Result{}, fmt.Errorf("%w: unexpected reply %q", ErrUnavailable, reply)
}
