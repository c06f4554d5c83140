// Package mail sends the outbox's email: over SMTP when a server is configured, otherwise to
// the log (without the message itself, which may carry personal data or a sign-in code).
//
// Messages are built with github.com/wneessen/go-mail (multipart/alternative: the text as
// written, and the same text as simple HTML; quoted-printable, so every line is short and
// 7-bit) and sent with its SMTP client, one deadline for each phase of the conversation.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	gosmtp "github.com/wneessen/go-mail/smtp"
)

// Message is one email.
type Message struct {
	ID      int64     // the outbox id: the Message-ID is made from it, the same on every attempt
	Created time.Time // when it was queued; part of the Message-ID, so a new database never reuses one
	To      string
	Subject string
	Body    string // plain text; paragraphs separated by a blank line
}

// Sender hands a message to the mail system.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Log is the sender used when no SMTP server is configured.
type Log struct{ Logger *slog.Logger }

// Send logs that a message would have been sent: its outbox id only.
func (l Log) Send(_ context.Context, m Message) error {
	l.Logger.Info("email not sent: no SMTP server configured", "outbox_id", m.ID)
	return nil
}

// TLS modes for SMTP.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS (port 587); refused if the server cannot
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no encryption: only for a relay on the same host or private network
)

// Default deadlines for each phase of an SMTP conversation.
const (
	DefaultDialTimeout    = 10 * time.Second // TCP connect (and the TLS handshake with TLSImplicit)
	DefaultCommandTimeout = 30 * time.Second // each command and its reply: greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT
	DefaultDataTimeout    = 60 * time.Second // the message itself and the server's reply to its end
)

// SMTP sends through an SMTP server.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string
	// Deadlines for each phase; zero means the default above.
	DialTimeout    time.Duration
	CommandTimeout time.Duration
	DataTimeout    time.Duration
	// TLSConfig, when set, replaces the default (tests trust their own certificate with it).
	TLSConfig *tls.Config
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Send delivers one message; any error means it was not accepted and may be retried. When ctx
// ends, the connection is closed at once and the error wraps ctx's cause.
func (s SMTP) Send(ctx context.Context, m Message) (err error) {
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return fmt.Errorf("smtp: refusing a header with a line break")
	}
	msg, err := compose(s.From, m, time.Now())
	if err != nil {
		return err
	}
	dialTimeout := orDefault(s.DialTimeout, DefaultDialTimeout)
	cmdTimeout := orDefault(s.CommandTimeout, DefaultCommandTimeout)
	dataTimeout := orDefault(s.DataTimeout, DefaultDataTimeout)
	tlsConfig := s.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))

	dialCtx, cancelDial := context.WithTimeout(ctx, dialTimeout)
	defer cancelDial()
	dialer := &net.Dialer{}
	var conn net.Conn
	if s.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(dialCtx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(dialCtx, "tcp", addr)
	}
	if err != nil {
		return phaseError(ctx, "connect", err)
	}
	// The deadlines bound each read and write; ctx ending (shutdown) closes the connection
	// whatever the phase, so nothing waits on a server that does not answer.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	defer conn.Close()

	if err := conn.SetDeadline(time.Now().Add(cmdTimeout)); err != nil {
		return phaseError(ctx, "connect", err)
	}
	c, err := gosmtp.NewClient(conn, s.Host)
	if err != nil {
		return phaseError(ctx, "greeting", err)
	}
	// step gives the next command (or the message) its own deadline.
	step := func(phase string, d time.Duration, f func() error) error {
		if err := c.UpdateDeadline(d); err != nil {
			return phaseError(ctx, phase, err)
		}
		if err := f(); err != nil {
			return phaseError(ctx, phase, err)
		}
		return nil
	}
	if err := step("ehlo", cmdTimeout, func() error { return c.Hello("localhost") }); err != nil {
		return err
	}
	if s.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("smtp: the server does not offer STARTTLS")
		}
		if err := step("starttls", cmdTimeout, func() error { return c.StartTLS(tlsConfig) }); err != nil {
			return err
		}
	}
	if s.Username != "" {
		// PLAIN, and only over TLS (or to this host): the password never crosses a network in clear.
		auth := gosmtp.PlainAuth("", s.Username, s.Password, s.Host, false)
		if err := step("auth", cmdTimeout, func() error { return c.Auth(auth) }); err != nil {
			return err
		}
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return fmt.Errorf("smtp: from: %w", err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return fmt.Errorf("smtp: to: %w", err)
	}
	if err := step("from", cmdTimeout, func() error { return c.Mail(from) }); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := step("to", cmdTimeout, func() error { return c.Rcpt(r) }); err != nil {
			return err
		}
	}
	var w io.WriteCloser
	if err := step("data", cmdTimeout, func() (err error) { w, err = c.Data(); return err }); err != nil {
		return err
	}
	if err := step("message", dataTimeout, func() error {
		if _, err := msg.WriteTo(w); err != nil {
			return err
		}
		return w.Close() // the final dot, and the server's reply: accepted or not
	}); err != nil {
		return err
	}
	// Accepted. A QUIT that goes wrong changes nothing: sending again would send it twice.
	_ = c.UpdateDeadline(cmdTimeout)
	_ = c.Quit()
	return nil
}

// phaseError says which part of the conversation failed; when ctx has ended it says so too,
// and wraps ctx's cause (the connection was closed because of it).
func phaseError(ctx context.Context, phase string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("smtp: %s: %w (%v)", phase, context.Cause(ctx), err)
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("smtp: %s: no answer in time: %w", phase, err)
	}
	return fmt.Errorf("smtp: %s: %w", phase, err)
}

// MessageID is the Message-ID of outbox message m: the same on every attempt, so a receiving
// system can tell a retry of a message it already has from a new one.
func MessageID(from string, m Message) string {
	domain := "renewals.invalid"
	if a, err := netmail.ParseAddress(from); err == nil {
		if i := strings.LastIndex(a.Address, "@"); i >= 0 && i+1 < len(a.Address) {
			domain = a.Address[i+1:]
		}
	}
	if m.Created.IsZero() {
		return fmt.Sprintf("outbox-%d@%s", m.ID, domain)
	}
	return fmt.Sprintf("outbox-%d.%d@%s", m.ID, m.Created.UnixMicro(), domain)
}

// compose builds the message: From, To, Subject, Date, a stable Message-ID, Auto-Submitted
// (so auto-responders stay quiet), and the body as text and as HTML.
func compose(from string, m Message, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(from); err != nil {
		return nil, fmt.Errorf("smtp: from address: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("smtp: to address: %w", err)
	}
	msg.Subject(m.Subject)
	// Date is when the message was ready to enter the mail system (RFC 5322 §3.6.1): when it
	// was queued, the same on every attempt.
	date := m.Created
	if date.IsZero() {
		date = now
	}
	msg.SetDateWithValue(date.UTC())
	msg.SetMessageIDWithValue(MessageID(from, m))
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")    // RFC 3834
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "OOF, AutoReply") // the same for Exchange
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	msg.SetBodyString(gomail.TypeTextPlain, body)
	if err := msg.AddAlternativeHTMLTemplate(htmlTemplate, htmlData(m.Subject, body)); err != nil {
		return nil, fmt.Errorf("smtp: html part: %w", err)
	}
	return msg, nil
}
