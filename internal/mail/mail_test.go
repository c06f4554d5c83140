package mail_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/mail"
)

func sender(t *testing.T, srv *smtpServer) mail.SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	return mail.SMTP{Host: host, Port: p, From: "renewals@herts.example.gov.uk", TLS: mail.TLSNone}
}

func TestSMTPDeliversAMessage(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t, false)
	err := sender(t, srv).Send(context.Background(), mail.Message{ID: 7, To: "zoe@example.org", Subject: "Your code – renewal",
		Body: "Line one\nLine two with Zoë\n"})
	if err != nil {
		t.Fatal(err)
	}
	got, rcpts := srv.messages()
	if len(got) != 1 || len(rcpts) != 1 || !strings.Contains(rcpts[0], "zoe@example.org") {
		t.Fatalf("received %d messages, recipients %v", len(got), rcpts)
	}
	for _, want := range []string{"From: renewals@herts.example.gov.uk\r\n", "To: zoe@example.org\r\n", "Subject: =?utf-8?q?",
		"Content-Type: text/plain; charset=UTF-8\r\n", "Line one\r\nLine two with Zoë\r\n"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("message lacks %q:\n%s", want, got[0])
		}
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
	s.TLS = mail.TLSStartTLS
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x"}); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sent without the STARTTLS the configuration demands: %v", err)
	}
	s.Port = 1 // nothing listens there
	s.TLS = mail.TLSNone
	if err := s.Send(context.Background(), mail.Message{To: "a@example.org", Subject: "x"}); err == nil {
		t.Fatal("no error when the server cannot be reached")
	}
}
