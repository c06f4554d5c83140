package paystub

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"github.com/herts-msp/taxi-renewals/internal/payment"
)

// The card page: what the user sees at next_url. No JavaScript, one column, readable at 320 px.
var cardTemplate = template.Must(template.New("card").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – Test payment stand-in</title>
<style>
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font-family:Arial,Helvetica,sans-serif;font-size:1.1875rem;line-height:1.4;color:#0b0c0c;background:#fff}
header{background:#0b0c0c;color:#fff;padding:.6rem 1rem;font-weight:700}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.75rem;line-height:1.2;margin:.5rem 0 1rem}
.note{border-left:5px solid #1d70b8;background:#f3f2f1;padding:.75rem 1rem;margin:0 0 1.5rem}
dl{margin:0 0 1.5rem}
dt{font-weight:700}
dd{margin:0 0 .75rem;overflow-wrap:anywhere}
form{margin:0 0 1rem}
button{display:block;width:100%;font:inherit;font-weight:700;padding:.6rem 1rem;border:2px solid transparent;border-radius:0;cursor:pointer;box-shadow:0 2px 0 #002d18}
button.pay{background:#00703c;color:#fff}
button.secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}
button.warning{background:#d4351c;color:#fff;box-shadow:0 2px 0 #55150b}
button:focus-visible,a:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 4px 0 #0b0c0c}
a{color:#1d70b8}
a:visited{color:#4c2c92}
</style>
</head>
<body>
<header>GOV.UK Pay test stand-in</header>
<main>
<h1>{{.Title}}</h1>
<p class="note"><strong>This is a test stand-in for GOV.UK Pay.</strong> No real card is taken and no money moves.</p>
<dl>
<dt>Amount</dt><dd>{{.Amount}}</dd>
<dt>Payment for</dt><dd>{{.Description}}</dd>
<dt>Reference</dt><dd>{{.Reference}}</dd>
</dl>
{{if .Open}}
<form method="post" action="/pay/{{.ID}}"><input type="hidden" name="action" value="pay"><button type="submit" class="pay">Pay</button></form>
<form method="post" action="/pay/{{.ID}}"><input type="hidden" name="action" value="decline"><button type="submit" class="secondary">Decline card</button></form>
<form method="post" action="/pay/{{.ID}}"><input type="hidden" name="action" value="cancel"><button type="submit" class="warning">Cancel payment</button></form>
{{else}}
<p>{{.Outcome}}</p>
<p><a href="{{.ReturnURL}}">Continue to the service</a></p>
{{end}}
</main>
</body>
</html>
`))

var messageTemplate = template.Must(template.New("msg").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} – Test payment stand-in</title>
<style>body{font-family:Arial,Helvetica,sans-serif;font-size:1.1875rem;color:#0b0c0c;margin:0 auto;padding:1rem;max-width:40rem}</style>
</head>
<body><main><h1>{{.}}</h1><p>This is a test stand-in for GOV.UK Pay.</p></main></body>
</html>
`))

type cardData struct {
	Title, Amount, Description, Reference, ID, Outcome string
	ReturnURL                                          template.URL
	Open                                               bool
}

// Pounds formats pence as £N.NN.
func Pounds(pence int64) string { return fmt.Sprintf("£%d.%02d", pence/100, pence%100) }

func outcome(p stubPayment) (title, text string) {
	switch {
	case p.Status == payment.StatusSuccess:
		return "Payment successful", "Your payment of " + Pounds(p.Amount) + " was taken."
	case p.Code == payment.CodeDeclined:
		return "Your payment was declined", "No money was taken."
	case p.Code == payment.CodeCancelledByUser || p.Status == payment.StatusCancelled:
		return "Your payment was cancelled", "No money was taken."
	case p.Code == payment.CodeExpired:
		return "Your payment session has expired", "No money was taken."
	default:
		return "Your payment could not be taken", "No money was taken."
	}
}

func writeHTML(w http.ResponseWriter, status int, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		http.Error(w, "template", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// find is the card page's lookup: by id only (the browser has no API key).
func (s *Server) find(id string) (stubPayment, bool) {
	if !payment.ValidID(id) {
		return stubPayment{}, false
	}
	p, ok := s.payments[id]
	if !ok {
		return stubPayment{}, false
	}
	return s.effective(p), true
}

func (s *Server) cardPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.find(r.PathValue("id"))
	if ok && p.Status == payment.StatusCreated {
		q := p
		q.Status = payment.StatusStarted // the user has reached the payment pages
		if s.put(q) == nil {
			p = q
		}
	}
	s.mu.Unlock()
	if !ok {
		writeHTML(w, http.StatusNotFound, messageTemplate, "Payment not found")
		return
	}
	d := cardData{
		Title: "Pay " + Pounds(p.Amount), Amount: Pounds(p.Amount), Description: p.Description,
		Reference: p.Reference, ID: p.ID, Open: !p.Finished,
	}
	if p.Finished {
		d.Title, d.Outcome = outcome(p)
		d.ReturnURL = template.URL(p.ReturnURL) // checked as an absolute http(s) URL when created
	}
	writeHTML(w, http.StatusOK, cardTemplate, d)
}

func (s *Server) cardAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		writeHTML(w, http.StatusBadRequest, messageTemplate, "That request could not be read")
		return
	}
	action := r.PostForm.Get("action")
	var oc string
	switch action {
	case "pay":
		oc = OutcomePay
	case "decline":
		oc = OutcomeDecline
	case "cancel":
		oc = OutcomeCancel
	default:
		writeHTML(w, http.StatusBadRequest, messageTemplate, "Choose Pay, Decline card or Cancel payment")
		return
	}
	s.mu.Lock()
	p, ok := s.find(r.PathValue("id"))
	var err error
	if ok && !p.Finished {
		apply(&p, oc)
		err = s.put(p)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeHTML(w, http.StatusNotFound, messageTemplate, "Payment not found")
	case err != nil:
		writeHTML(w, http.StatusInternalServerError, messageTemplate, "Sorry, there is a problem with the service")
	default:
		// A payment already finished keeps its outcome; the user goes back either way.
		http.Redirect(w, r, p.ReturnURL, http.StatusSeeOther)
	}
}
