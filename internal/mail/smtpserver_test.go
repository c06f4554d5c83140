package mail_test

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
)

// smtpServer is a minimal SMTP listener for tests: it speaks enough of RFC 5321 for a client to
// deliver a message, can refuse recipients or a message to test retries, and can stop
// answering at any step to test deadlines and shutdown.
type smtpServer struct {
	Addr       string
	RefuseRcpt bool
	// RefuseData, when set, answers the end of a message it has received with 451 while it
	// returns true (n counts the messages received so far, from 1).
	RefuseData func(n int) bool
	// Hold, when set, is asked before the server answers each step ("greeting", "ehlo", "mail",
	// "rcpt", "data", "message"; rcpt is the connection's recipient once known): a channel it
	// returns is waited on first (nil: answer at once). The connection stays open meanwhile.
	Hold func(step, rcpt string) <-chan struct{}
	// TLS, when set, is offered with STARTTLS (or, with Implicit, spoken from the first byte),
	// and AUTH PLAIN is offered once the connection is encrypted.
	TLS      *tls.Config
	Implicit bool

	events chan string // "connect", "holding <step>", "rcpt <addr>", "delivered <addr>", as they happen
	closed chan struct{}

	mu       sync.Mutex
	received []string // whole DATA sections, refused ones too
	rcpts    []string
	auths    []string // decoded AUTH PLAIN responses
	conns    int
	open     []net.Conn
	ln       net.Listener
}

func startSMTP(t *testing.T, refuse bool) *smtpServer {
	return startSMTPWith(t, &smtpServer{RefuseRcpt: refuse})
}

func startSMTPWith(t *testing.T, s *smtpServer) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr, s.ln = ln.Addr().String(), ln
	s.events = make(chan string, 1000)
	s.closed = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.open = append(s.open, conn)
			s.mu.Unlock()
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(conn) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		close(s.closed) // releases every held connection
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		wg.Wait()
	})
	return s
}

// Forever is a Hold answer: never answer (until the test ends).
func (s *smtpServer) Forever() <-chan struct{} { return s.closed }

func (s *smtpServer) event(e string) {
	select {
	case s.events <- e:
	default:
	}
}

func (s *smtpServer) serve(conn net.Conn) {
	defer func() { conn.Close() }()
	s.event("connect")
	encrypted := false
	if s.TLS != nil && s.Implicit {
		conn, encrypted = tls.Server(conn, s.TLS), true
	}
	r := bufio.NewReader(conn)
	say := func(line string) { _, _ = conn.Write([]byte(line + "\r\n")) }
	rcpt := ""
	// hold waits as s.Hold says; false when the test is over.
	hold := func(step string) bool {
		if s.Hold == nil {
			return true
		}
		if ch := s.Hold(step, rcpt); ch != nil {
			s.event("holding " + step)
			select {
			case <-ch:
			case <-s.closed:
				return false
			}
		}
		return true
	}
	if !hold("greeting") {
		return
	}
	say("220 test.local ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			if !hold("ehlo") {
				return
			}
			say("250-test.local")
			if s.TLS != nil && !encrypted {
				say("250-STARTTLS")
			}
			if encrypted {
				say("250-AUTH PLAIN")
			}
			say("250 8BITMIME")
		case cmd == "STARTTLS" && s.TLS != nil && !encrypted:
			say("220 go ahead")
			conn, encrypted = tls.Server(conn, s.TLS), true
			r = bufio.NewReader(conn)
		case strings.HasPrefix(cmd, "AUTH PLAIN") && encrypted:
			resp, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line[len("AUTH PLAIN"):]))
			if err != nil {
				say("501 bad encoding")
				continue
			}
			s.mu.Lock()
			s.auths = append(s.auths, string(resp))
			s.mu.Unlock()
			say("235 2.7.0 authenticated")
		case strings.HasPrefix(cmd, "MAIL FROM"):
			if !hold("mail") {
				return
			}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO"):
			rcpt = strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>")
			s.event("rcpt " + rcpt)
			if !hold("rcpt") {
				return
			}
			if s.RefuseRcpt {
				say("451 try again later")
				continue
			}
			s.mu.Lock()
			s.rcpts = append(s.rcpts, strings.TrimSpace(line[len("RCPT TO:"):]))
			s.mu.Unlock()
			say("250 ok")
		case cmd == "DATA":
			if !hold("data") {
				return
			}
			say("354 go ahead")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // RFC 5321 §4.5.2 dot-stuffing
			}
			s.mu.Lock()
			s.received = append(s.received, b.String())
			n := len(s.received)
			s.mu.Unlock()
			if !hold("message") {
				return
			}
			if s.RefuseData != nil && s.RefuseData(n) {
				say("451 4.3.0 try again later")
				continue
			}
			s.event("delivered " + rcpt)
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) messages() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...), append([]string(nil), s.rcpts...)
}

func (s *smtpServer) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

func (s *smtpServer) authentications() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auths...)
}
