package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// TestEveryRouteHasAPolicyAndEnforcesIt takes every route from Echo's router, fails on any
// without a declared access policy, and requests each one as every kind of user: nobody, a
// signed-in driver, an officer of the record's council, an officer of another council, an
// analyst and an admin. Ids in paths point at Dacorum's records.
func TestEveryRouteHasAPolicyAndEnforcesIt(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	ev, _ := env.Store.DriverEvidence(ctx, r.DriverID)
	target := env.AddStaff(t, domain.RoleOfficer, "dacorum") // an account for admin actions to act on

	ids := map[string]int64{
		"/staff/renewals/": r.ID, "/staff/drivers/": r.DriverID, "/staff/evidence/": ev[0].ID,
		"/staff/users/": target.ID, "/staff/register/import/": registerImportFor(t, env, target),
	}
	concrete := func(path string) string {
		path = strings.Replace(path, ":slug", "dacorum", 1) // issue 4: council report pages name Dacorum
		path = strings.Replace(path, ":kind", "photo", 1)   // issue 10: the document upload names its kind
		path = strings.Replace(path, ":key", "999999", 1)   // issue 10: a payment return address that names no payment
		if !strings.Contains(path, ":id") {
			return strings.Replace(path, "*", "/app.css", 1)
		}
		for prefix, id := range ids {
			if strings.HasPrefix(path, prefix) {
				return strings.Replace(path, ":id", fmt.Sprint(id), 1)
			}
		}
		return strings.Replace(path, ":id", "999999", 1) // a record that does not exist for anyone
	}

	kinds := map[string]struct {
		role    domain.Role
		council string
	}{
		"officer": {domain.RoleOfficer, "dacorum"}, "other-officer": {domain.RoleOfficer, "watford"},
		"analyst": {domain.RoleAnalyst, ""}, "admin": {domain.RoleAdmin, ""},
	}
	logins := map[string]testenv.StaffLogin{}
	for name, k := range kinds {
		logins[name] = env.AddStaff(t, k.role, k.council)
	}
	cached := map[string]*testenv.Browser{}
	// Routes that end sessions (sign-out, sign out everywhere, disabling) get a fresh account and
	// sign-in, so they cannot end the shared ones; otherwise one browser per kind of user.
	get := func(name string, fresh bool) *testenv.Browser {
		if b, ok := cached[name]; ok && !fresh {
			return b
		}
		var b *testenv.Browser
		switch name {
		case "nobody":
			b = env.NewBrowser(t)
			b.Get("/renew/sign-in") // a page with a form, so POSTs carry a valid CSRF token
		case "driver":
			b = env.SignIn(t, "watford", testenv.DueWatford)
		default:
			login := logins[name]
			if fresh {
				login = env.AddStaff(t, kinds[name].role, kinds[name].council)
			}
			b = env.SignInStaff(t, login)
		}
		if !fresh {
			cached[name] = b
		}
		return b
	}
	users := []string{"nobody", "driver", "officer", "other-officer", "analyst", "admin"}

	policies := env.Web.Policies()
	routes := env.Web.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	checked := 0
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		policy, ok := policies[key]
		if !ok {
			t.Errorf("route %s has no declared access policy", key)
			continue
		}
		for _, u := range users {
			fresh := strings.HasSuffix(rt.Path, "sign-out") || strings.HasSuffix(rt.Path, "sign-out-everywhere") || strings.Contains(rt.Path, "/disable")
			b := get(u, fresh)
			path := concrete(rt.Path)
			var p testenv.Page
			switch rt.Method {
			case http.MethodGet:
				p = b.Get(path)
			case http.MethodHead: // issue 13: every GET route answers HEAD behind the same policy
				p = head(t, b, path)
			default:
				p = b.Post(path, url.Values{})
			}
			checked++
			got := outcome(p)
			hasID := strings.Contains(rt.Path, ":id") || strings.Contains(rt.Path, ":slug") || strings.Contains(rt.Path, ":key") // issue 4: :slug names a council
			want := expected(policy, u, hasID, strings.Contains(path, "999999"))
			if want != "" && got != want {
				t.Errorf("%s as %s (policy %s): got %s (%d %s), want %s", key, u, policy, got, p.Status, p.Location, want)
			}
			if p.Status >= 500 {
				t.Errorf("%s as %s: status %d", key, u, p.Status)
			}
		}
	}
	t.Logf("access checked: %d routes × %d kinds of user = %d requests", len(routes), len(users), checked)
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusSubmitted && got.Status != domain.StatusInReview {
		t.Errorf("the access sweep decided the renewal: %s", got.Status)
	}
}

// head sends a HEAD request as the browser (its cookies and headers).
func head(t *testing.T, b *testenv.Browser, path string) testenv.Page {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodHead, b.Server+path, nil)
	for k, v := range b.Header {
		req.Header[k] = v
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	defer resp.Body.Close()
	return testenv.Page{Status: resp.StatusCode, Header: resp.Header, Location: resp.Header.Get("Location")}
}

// outcome classifies a response: denied by sign-in, forbidden, not found, or allowed.
func outcome(p testenv.Page) string {
	switch {
	case p.Status == http.StatusSeeOther && (p.Location == "/renew/sign-in" || p.Location == "/staff/sign-in"):
		return "sign-in"
	case p.Status == http.StatusUnauthorized: // issue 4: the API answers 401 without a token
		return "unauthorised"
	case p.Status == http.StatusForbidden:
		return "forbidden"
	case p.Status == http.StatusNotFound:
		return "not-found"
	default:
		return "allowed"
	}
}

// expected is what each kind of user must get under each policy ("" when any answer but a
// 5xx is fine, e.g. for steps of sign-in in progress).
func expected(policy, user string, hasID, missing bool) string {
	staff := user == "officer" || user == "other-officer" || user == "analyst" || user == "admin"
	want := expectedFor(policy, user, staff, hasID)
	if missing && want == "allowed" {
		return "not-found" // the id names nothing, for anyone allowed in
	}
	return want
}

func expectedFor(policy, user string, staff, hasID bool) string {
	switch policy {
	case "public":
		return "allowed"
	case "pending-driver", "pending-staff":
		if user == "nobody" {
			return "sign-in"
		}
		return ""
	case "driver":
		if user == "driver" {
			return "allowed"
		}
		return "sign-in"
	case "staff":
		if staff {
			return "allowed"
		}
		return "sign-in"
	case "staff-read":
		if !staff {
			return "sign-in"
		}
		if user == "other-officer" && hasID {
			return "not-found"
		}
		return "allowed"
	case "officer":
		switch {
		case !staff:
			return "sign-in"
		case user == "analyst" || user == "admin":
			return "forbidden"
		case user == "other-officer" && hasID:
			return "not-found"
		}
		return "allowed"
	case "admin":
		switch {
		case !staff:
			return "sign-in"
		case user != "admin":
			return "forbidden"
		}
		return "allowed"
	case "analyst": // issue 4: analysts' and admins' account actions (API tokens)
		switch {
		case !staff:
			return "sign-in"
		case user == "officer" || user == "other-officer":
			return "forbidden"
		}
		return "allowed"
	case "api-token": // issue 4: only a bearer token opens the API; cookies never do
		return "unauthorised"
	}
	return "unknown policy " + policy
}

// registerImportFor uploads (without applying) a one-row Dacorum register as officer o.
func registerImportFor(t *testing.T, env *testenv.Env, o testenv.StaffLogin) int64 {
	t.Helper()
	a := domain.Actor{StaffID: o.ID, Email: o.Email, Role: o.Role, CouncilID: o.CouncilID}
	imp, err := env.Service.UploadRegister(context.Background(), a, service.RegisterUpload{FileName: "register.csv", Content: []byte(
		"licence_number,given_names,family_name,date_of_birth,email,phone,postcode,licence_start,licence_expiry,status\r\n" +
			"DAC-9001,Ama,Mensah,1980-01-01,,,,2024-01-01,2027-01-01,active\r\n")})
	if err != nil {
		t.Fatal(err)
	}
	return imp.ID
}
