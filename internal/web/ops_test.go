package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// perResponse matches what differs from one response to the next whatever the record: the
// CSRF token (in forms) and the request id. The 404 comparison replaces both with a fixed
// string and compares everything else byte for byte.
var perResponse = regexp.MustCompile(`name="_csrf" value="[^"]+"`)

func normalised(p testenv.Page) string {
	return perResponse.ReplaceAllString(p.Body, `name="_csrf" value="TOKEN"`)
}

// TestNotFoundIsTheSameForAnotherCouncilsRecordAndAMissingOne (issue 13, DESIGN §3 rule 10):
// an officer of Watford asks for each of Dacorum's records by id (also with leading zeros) and
// for ids that name nothing; the answers are identical, byte for byte, in status, content
// type, length and body (the CSRF token normalised; the request id is a header, not compared).
func TestNotFoundIsTheSameForAnotherCouncilsRecordAndAMissingOne(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	ev, err := env.Store.DriverEvidence(ctx, r.DriverID)
	if err != nil || len(ev) == 0 {
		t.Fatalf("evidence: %v %v", ev, err)
	}
	var docID int64
	if err := testdb.Raw(t, env.Config.DatabaseURL).QueryRow("SELECT MIN(id) FROM documents").Scan(&docID); err != nil {
		t.Fatal(err)
	}
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	other.Get("/staff") // a page with a form, so POSTs carry a valid CSRF token
	const missing = "999999"

	type route struct {
		method, path string // path has %s for the reference
		theirs       string // Dacorum's record
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	routes := []route{
		{http.MethodGet, "/staff/drivers/%s", id(r.DriverID)},
		{http.MethodPost, "/staff/drivers/%s/evidence", id(r.DriverID)},
		{http.MethodPost, "/staff/evidence/%s/void", id(ev[0].ID)},
		{http.MethodGet, "/staff/renewals/%s", id(r.ID)},
		{http.MethodGet, "/staff/documents/%s/file", id(docID)},
		{http.MethodGet, "/staff/reports/council/%s", "dacorum"},
	}
	var pages []testenv.Page
	for _, rt := range routes {
		do := func(ref string) testenv.Page {
			path := fmt.Sprintf(rt.path, ref)
			if rt.method == http.MethodGet {
				return other.Get(path)
			}
			return other.Post(path, url.Values{"evidence_type": {"dbs"}, "reason": {"wrong"}})
		}
		cases := map[string]string{"another council's": rt.theirs, "missing": missing}
		if rt.theirs != "dacorum" {
			cases["another council's, leading zeros"] = "00" + rt.theirs
			cases["missing, leading zeros"] = "00" + missing
		} else {
			cases["missing"] = "gotham"
		}
		want := do(missing)
		if rt.theirs == "dacorum" {
			want = do("gotham")
		}
		if want.Status != http.StatusNotFound {
			t.Fatalf("%s %s: status %d, want 404\n%s", rt.method, rt.path, want.Status, testenv.Excerpt(want.Body))
		}
		pages = append(pages, want)
		for name, ref := range cases {
			t.Run(rt.method+" "+rt.path+"/"+name, func(t *testing.T) {
				got := do(ref)
				for _, h := range []string{"Content-Type", "Content-Length", "Cache-Control", "Location", "Retry-After"} {
					if got.Header.Get(h) != want.Header.Get(h) {
						t.Errorf("%s %q, want %q", h, got.Header.Get(h), want.Header.Get(h))
					}
				}
				if got.Status != want.Status {
					t.Errorf("status %d, want %d", got.Status, want.Status)
				}
				if normalised(got) != normalised(want) {
					t.Errorf("body differs from a missing record's:\n%s\n---\n%s", testenv.Excerpt(got.Body), testenv.Excerpt(want.Body))
				}
			})
		}
	}
	// And every such page is the one not-found page of the back office.
	for i, p := range pages[1:] {
		if normalised(p) != normalised(pages[0]) {
			t.Errorf("%s %s: not the same page as %s", routes[i+1].method, routes[i+1].path, routes[0].path)
		}
	}
	mustContain(t, pages[0], "There is nothing at this address.")
}

// TestOversizedBodyIs413HoweverSent: a form body over 64 KB answers 413 with the "too large"
// page, whether it says its length or is sent chunked (the CSRF check used to read the chunked
// one first and answer 403).
func TestOversizedBodyIs413HoweverSent(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.Get("/renew/contact")
	body := url.Values{"_csrf": {b.CSRF}, "email": {strings.Repeat("a", 100<<10)}}.Encode()
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"with Content-Length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			var rd io.Reader = strings.NewReader(body)
			if tc.chunked {
				rd = io.MultiReader(rd) // hides the length: the client sends it chunked
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b.Server+"/renew/contact", rd)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.chunked && req.ContentLength != 0 {
				t.Fatalf("request has a length %d", req.ContentLength)
			}
			resp, err := b.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413\n%s", resp.StatusCode, testenv.Excerpt(string(out)))
			}
			if !strings.Contains(string(out), "What you sent is too large") {
				t.Errorf("not the too-large page:\n%s", testenv.Excerpt(string(out)))
			}
		})
	}
	t.Run("a chunked form under the limit still works", func(t *testing.T) {
		b.Get("/renew/contact")
		form := testenv.Copy(testenv.ContactForm)
		form.Set("_csrf", b.CSRF)
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b.Server+"/renew/contact", io.MultiReader(strings.NewReader(form.Encode())))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303", resp.StatusCode)
		}
	})
}

// TestHeadAnsweredOnGetRoutes: HEAD gets the GET's status and headers without a body, behind
// the same access policy.
func TestHeadAnsweredOnGetRoutes(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	nobody := env.NewBrowser(t)
	for _, tc := range []struct {
		path     string
		status   int
		location string
	}{
		{"/", http.StatusOK, ""},
		{"/healthz", http.StatusOK, ""},
		{"/leaflet", http.StatusOK, ""},
		{"/static/app.css", http.StatusOK, ""},
		{"/renew", http.StatusSeeOther, "/renew/sign-in"},
		{"/staff/drivers/1", http.StatusSeeOther, "/staff/sign-in"},
		{"/no-such-page", http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			get := nobody.Get(tc.path)
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodHead, nobody.Server+tc.path, nil)
			resp, err := nobody.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || get.Status != tc.status {
				t.Fatalf("HEAD %d, GET %d, want %d", resp.StatusCode, get.Status, tc.status)
			}
			if len(out) != 0 {
				t.Errorf("HEAD has a body of %d bytes", len(out))
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			if got, want := resp.Header.Get("Content-Type"), get.Header.Get("Content-Type"); tc.status == http.StatusOK && got != want {
				t.Errorf("Content-Type %q, want the GET's %q", got, want)
			}
		})
	}
}
