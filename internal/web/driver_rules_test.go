package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// snapshot is what a refused request must leave untouched.
type snapshot struct {
	status   domain.RenewalStatus
	ref      string
	evidence int
	outbox   int
}

func take(t *testing.T, env *testenv.Env, licence string) snapshot {
	t.Helper()
	ctx := context.Background()
	d := env.Drivers[licence]
	r, err := env.Store.LatestRenewal(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := env.Store.DriverEvidence(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := env.Store.UnsentMessages(ctx, 10000)
	if err != nil {
		t.Fatal(err)
	}
	return snapshot{r.Status, r.Reference, len(ev), len(msgs)}
}

func TestSubmitRefusedWithoutCurrentAcknowledgement(t *testing.T) {
	t.Parallel()
	t.Run("crafted POST to submit with no awareness step", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		before := take(t, env, testenv.DueDacorum)
		p := b.Post("/renew/submit", nil)
		wantStatus(t, p, http.StatusConflict)
		mustContain(t, p, "There is a problem", "You must read the current modern slavery awareness leaflet", `href="#awareness"`)
		if after := take(t, env, testenv.DueDacorum); after != before || after.status != domain.StatusDraft {
			t.Fatalf("refused submit changed data: before %+v after %+v", before, after)
		}
	})

	t.Run("leaflet read and check passed but not acknowledged", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		b.Get("/renew/awareness")
		_, answers := env.QuizAnswers(t)
		wantStatus(t, b.Post("/renew/awareness/check", answers), http.StatusSeeOther)
		before := take(t, env, testenv.DueDacorum)
		wantStatus(t, b.Post("/renew/submit", nil), http.StatusConflict)
		if after := take(t, env, testenv.DueDacorum); after != before {
			t.Fatalf("refused submit changed data: before %+v after %+v", before, after)
		}
	})

	t.Run("acknowledged an older version that required re-acknowledgement", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		b.CompleteAwareness()
		env.Clock.Advance(5 * time.Minute)
		env.PublishLeaflet(t, "2.0", false)
		p := b.Get("/renew")
		mustContain(t, p, "There is a new version of the awareness leaflet", "New leaflet to read")
		before := take(t, env, testenv.DueDacorum)
		p = b.Post("/renew/submit", nil)
		wantStatus(t, p, http.StatusConflict)
		if after := take(t, env, testenv.DueDacorum); after != before {
			t.Fatalf("refused submit changed data: before %+v after %+v", before, after)
		}
		// Going through the step again for version 2.0 lets the renewal go.
		b.CompleteAwareness()
		wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	})

	t.Run("a minor version does not send drivers back through the step", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		b.CompleteAwareness()
		env.Clock.Advance(5 * time.Minute)
		env.PublishLeaflet(t, "1.1", true)
		p := b.Get("/renew")
		if strings.Contains(p.Body, "New leaflet to read") {
			t.Fatal("a minor version asked for re-acknowledgement")
		}
		wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	})

	t.Run("forged leaflet id on the acknowledgement", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		b.Get("/renew/awareness")
		id, answers := env.QuizAnswers(t)
		wantStatus(t, b.Post("/renew/awareness/check", answers), http.StatusSeeOther)
		before := take(t, env, testenv.DueDacorum)
		for _, forged := range []string{strconv.FormatInt(id+1, 10), "0", "-1", "abc", strconv.FormatInt(id, 10) + "0"} {
			p := b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {forged}, "understood": {"yes"}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "not the current version")
		}
		if after := take(t, env, testenv.DueDacorum); after != before {
			t.Fatalf("forged acknowledgement wrote data: before %+v after %+v", before, after)
		}
		// And a forged leaflet id sent to submit is ignored: still no acknowledgement.
		p := b.Post("/renew/submit", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}, "acknowledged": {"yes"}})
		wantStatus(t, p, http.StatusConflict)
	})

	t.Run("acknowledging the old version after a new one is published", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteSections()
		b.Get("/renew/awareness")
		oldID, answers := env.QuizAnswers(t)
		wantStatus(t, b.Post("/renew/awareness/check", answers), http.StatusSeeOther)
		env.PublishLeaflet(t, "2.0", false)
		before := take(t, env, testenv.DueDacorum)
		p := b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(oldID, 10)}, "understood": {"yes"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if after := take(t, env, testenv.DueDacorum); after != before {
			t.Fatalf("stale acknowledgement wrote data: before %+v after %+v", before, after)
		}
	})

	t.Run("sections missing", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		b.CompleteAwareness()
		p := b.Post("/renew/submit", nil)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Complete your contact details", `href="#contact"`)
		if s := take(t, env, testenv.DueDacorum); s.status != domain.StatusDraft || s.ref != "" {
			t.Fatalf("incomplete renewal was submitted: %+v", s)
		}
	})
}

// TestDoubleSubmit: two tabs submitting at the same moment, and a retry, make one renewal.
func TestDoubleSubmit(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.CompleteSections()
	b.CompleteAwareness()
	b.Get("/renew/check-answers")
	const tabs = 8
	var wg sync.WaitGroup
	statuses := make([]int, tabs)
	for i := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = b.Post("/renew/submit", nil).Status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusSeeOther {
			t.Errorf("tab %d got %d, want 303 to the confirmation", i, s)
		}
	}
	first := take(t, env, testenv.DueDacorum)
	wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther) // a retry later
	n, err := env.Store.CountRenewals(context.Background(), env.Drivers[testenv.DueDacorum].ID)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d renewals after %d submits, want 1", n, tabs+1)
	}
	if again := take(t, env, testenv.DueDacorum); again != first || first.status != domain.StatusSubmitted {
		t.Fatalf("retry changed the renewal: %+v then %+v", first, again)
	}
	// One confirmation email (plus the sign-in code), not one per tab.
	if first.outbox != 2 {
		t.Errorf("outbox has %d messages, want 2 (code and one confirmation)", first.outbox)
	}
}
