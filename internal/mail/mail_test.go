package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/mail"
)

func sender(t *testing.T, srv *smtpServer) mail.SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	return mail.SMTP{Host: host, Port: p, From: "renewals@herts.example.gov.uk", TLS: mail.TLSNone}
}

// parsed is a received message taken apart the way a mail client would.
type parsed struct {
	header netmail.Header
	text   string // the text/plain part, decoded
	html   string // the text/html part, decoded
	types  []string
}

func parse(t *testing.T, raw string) parsed {
	t.Helper()
	for i, line := range strings.Split(raw, "\r\n") {
		if len(line) > 78 {
			t.Errorf("line %d is %d characters long (RFC 5322 asks for at most 78): %q", i+1, len(line), line)
		}
		for _, b := range []byte(line) {
			if b >= 0x80 {
				t.Errorf("line %d has an 8-bit byte (the server was not asked for 8BITMIME): %q", i+1, line)
				break
			}
		}
	}
	msg, err := netmail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("not a message: %v\n%s", err, raw)
	}
	p := parsed{header: msg.Header}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct, cparams, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		p.types = append(p.types, ct)
		if !strings.EqualFold(cparams["charset"], "utf-8") {
			t.Errorf("%s part has charset %q, want UTF-8", ct, cparams["charset"])
		}
		switch ct {
		case "text/plain":
			p.text = string(b)
		case "text/html":
			p.html = string(b)
		}
	}
	return p
}

func TestSMTPDeliversMultipartTextAndHTML(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false)
	created := time.Date(2026, 11, 26, 10, 0, 0, 123456000, time.UTC)
	long := strings.Repeat("a long line of words ", 8) + "end"
	m := mail.Message{ID: 7, Created: created, To: "zoe@example.org", Subject: "Your code – renewal for Zoë",
		Body: "Line one\nLine two with Zoë & <script>alert(1)</script>\n\n" + long +
			"\n\nCheck progress at https://renew.example.gov.uk/renew/status?a=1&b=2.\n"}
	if err := sender(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got, rcpts := srv.messages()
	if len(got) != 1 || len(rcpts) != 1 || !strings.Contains(rcpts[0], "zoe@example.org") {
		t.Fatalf("received %d messages, recipients %v", len(got), rcpts)
	}
	p := parse(t, got[0])
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(p.header.Get("Subject"))
	if err != nil || subject != m.Subject {
		t.Errorf("Subject %q decodes to %q (%v), want %q", p.header.Get("Subject"), subject, err, m.Subject)
	}
	if from, err := p.header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "renewals@herts.example.gov.uk" {
		t.Errorf("From %q: %v %v", p.header.Get("From"), from, err)
	}
	if to, err := p.header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "zoe@example.org" {
		t.Errorf("To %q: %v %v", p.header.Get("To"), to, err)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(created.Truncate(time.Second)) {
		t.Errorf("Date %q: %v %v; want when it was queued, %s", p.header.Get("Date"), d, err, created)
	}
	wantID := "<outbox-7." + strconv.FormatInt(created.UnixMicro(), 10) + "@herts.example.gov.uk>"
	if id := p.header.Get("Message-ID"); id != wantID || "<"+mail.MessageID("renewals@herts.example.gov.uk", m)+">" != wantID {
		t.Errorf("Message-ID %q, want %q", id, wantID)
	}
	for k, want := range map[string]string{"Auto-Submitted": "auto-generated", "MIME-Version": "1.0"} {
		if v := p.header.Get(k); v != want {
			t.Errorf("%s: %q, want %q", k, v, want)
		}
	}
	if strings.Join(p.types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html (the richer last)", p.types)
	}
	if want := strings.ReplaceAll(m.Body, "\n", "\r\n"); p.text != want {
		t.Errorf("text part:\n%q\nwant\n%q", p.text, want)
	}
	for _, want := range []string{`<html lang="en">`, "<title>Your code – renewal for Zoë</title>",
		"<p", "Line one<br>", "Zoë &amp; &lt;script&gt;alert(1)&lt;/script&gt;", long,
		`<a href="https://renew.example.gov.uk/renew/status?a=1&amp;b=2"`, ">https://renew.example.gov.uk/renew/status?a=1&amp;b=2</a>."} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, p.html)
		}
	}
	if strings.Contains(p.html, "<script>") {
		t.Errorf("HTML part has unescaped markup from the text:\n%s", p.html)
	}
}

func TestSMTPRefusals(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, true)
	s := sender(t, srv)
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x", Body: "y"}); err == nil || !strings.Contains(err.Error(), "451") {
		t.Fatalf("a refused recipient was not an error: %v", err)
	}
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org\r\nBcc: evil@example.org", Subject: "x"}); err == nil {
		t.Fatal("a header with a line break was sent")
	}
	if err := s.Send(context.Background(), mail.Message{To: "not an address", Subject: "x"}); err == nil || !strings.Contains(err.Error(), "to address") {
		t.Fatalf("an invalid recipient was not refused: %v", err)
	}
	s.TLS = mail.TLSStartTLS
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x"}); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sent without the STARTTLS the configuration demands: %v", err)
	}
	s.Port = 1 // nothing listens there
	s.TLS = mail.TLSNone
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x"}); err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("no connect error when the server cannot be reached: %v", err)
	}
}

// TestSMTPPhaseDeadlines: a server that stops answering at any step makes Send fail once that
// phase's deadline has passed, saying which phase, and a message is never reported sent.
func TestSMTPPhaseDeadlines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		step, phase string
		commands    bool // true: the command deadline applies; false: the data deadline
	}{
		{"greeting", "greeting", true},
		{"ehlo", "ehlo", true},
		{"rcpt", "to", true},
		{"data", "data", true},
		{"message", "message", false},
	} {
		t.Run(tc.step, func(t *testing.T) {
			t.Parallel()
			srv := &smtpServer{}
			srv.Hold = func(step, _ string) <-chan struct{} {
				if step == tc.step {
					return srv.Forever()
				}
				return nil
			}
			startSMTPWith(t, srv)
			s := sender(t, srv)
			// The phase under test has a short deadline, the other a long one: Send ending
			// soon shows which deadline applied.
			short, long := 300*time.Millisecond, time.Hour
			s.CommandTimeout, s.DataTimeout = long, short
			if tc.commands {
				s.CommandTimeout, s.DataTimeout = short, long
			}
			start := time.Now()
			err := s.Send(context.Background(), mail.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "y"})
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), "smtp: "+tc.phase+": no answer in time") {
				t.Fatalf("server silent at %s: error %v, want a %s deadline", tc.step, err, tc.phase)
			}
			if took < short || took > time.Minute {
				t.Errorf("gave up after %s, deadline %s", took, short)
			}
			if tc.step == "message" {
				if got, _ := srv.messages(); len(got) != 1 {
					t.Errorf("the server received %d messages before going silent, want 1", len(got))
				}
			}
		})
	}
}

// TestSMTPSendStopsWhenContextEnds: however long the deadlines, ending ctx (shutdown) closes the
// connection at once and the error says why.
func TestSMTPSendStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	srv := &smtpServer{}
	srv.Hold = func(step, _ string) <-chan struct{} {
		if step == "ehlo" {
			return srv.Forever()
		}
		return nil
	}
	startSMTPWith(t, srv)
	s := sender(t, srv)
	s.CommandTimeout, s.DataTimeout = time.Hour, time.Hour
	ctx, cancel := context.WithCancelCause(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Send(ctx, mail.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "y"}) }()
	for ev := range srv.events { // the client is connected and waits for the reply to EHLO
		if ev == "holding ehlo" {
			break
		}
	}
	stopped := errors.New("test shutdown")
	cancel(stopped)
	select {
	case err := <-errc:
		if !errors.Is(err, stopped) || !strings.Contains(err.Error(), "smtp: ehlo: ") {
			t.Fatalf("error %v, want the context's cause during EHLO", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Send still waiting a minute after its context ended")
	}
}

// testCertificate is a self-signed certificate for 127.0.0.1, and a pool that trusts it.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// TestSMTPTLSAndAuth: STARTTLS (the default) and implicit TLS both deliver, with the
// certificate checked, and the password goes out only once the connection is encrypted.
func TestSMTPTLSAndAuth(t *testing.T) {
	t.Parallel()
	cert, pool := testCertificate(t)
	for _, mode := range []string{mail.TLSStartTLS, mail.TLSImplicit} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			srv := startSMTPWith(t, &smtpServer{TLS: &tls.Config{Certificates: []tls.Certificate{cert}}, Implicit: mode == mail.TLSImplicit})
			s := sender(t, srv)
			s.TLS, s.Username, s.Password = mode, "mailer", "pw-1"
			s.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
			if err := s.Send(context.Background(), mail.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "y"}); err != nil {
				t.Fatal(err)
			}
			if got, _ := srv.messages(); len(got) != 1 {
				t.Fatalf("received %d messages", len(got))
			}
			if auths := srv.authentications(); len(auths) != 1 || auths[0] != "\x00mailer\x00pw-1" {
				t.Fatalf("AUTH PLAIN responses %q", auths)
			}
			// A certificate the client does not trust: nothing is sent.
			s.TLSConfig = &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
			if err := s.Send(context.Background(), mail.Message{ID: 2, To: "a@example.org", Subject: "x", Body: "y"}); err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Fatalf("an untrusted certificate was accepted: %v", err)
			}
			if got, _ := srv.messages(); len(got) != 1 {
				t.Fatalf("received %d messages after the untrusted certificate", len(got))
			}
		})
	}
}
