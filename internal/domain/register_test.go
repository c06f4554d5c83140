package domain

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const regHeader = "licence_number,given_names,family_name,date_of_birth,email,phone,postcode,licence_start,licence_expiry,status"

var regToday = Date{Year: 2026, Month: time.November, Day: 26}

func regOpts() RegisterOptions {
	return RegisterOptions{CouncilSlug: "dacorum", CouncilName: "Dacorum Borough Council", Today: regToday}
}

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseISODate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func parseString(t testing.TB, s string) *RegisterFile {
	t.Helper()
	f, err := ParseRegister(strings.NewReader(s), regOpts())
	if err != nil {
		t.Fatalf("ParseRegister: %v", err)
	}
	return f
}

func problemStrings(ps []RegisterProblem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func TestParseRegisterAccepts(t *testing.T) {
	zoe := Driver{LicenceNumber: "DAC-1001", GivenNames: "Zoë", FamilyName: "O’Brien", DateOfBirth: mustDate(t, "1980-03-27"),
		Email: "zoe@example.org", Phone: "07700900123", Postcode: "AL8 6XF",
		LicenceStart: mustDate(t, "2024-01-05"), LicenceExpiry: mustDate(t, "2027-01-04"), Status: "active"}
	lukasz := Driver{LicenceNumber: "DAC-1002", GivenNames: "Łukasz", FamilyName: "Wójcik", DateOfBirth: mustDate(t, "1975-11-02"),
		LicenceStart: mustDate(t, "2025-06-01"), LicenceExpiry: mustDate(t, "2026-05-31"), Status: "suspended"}
	li := Driver{LicenceNumber: "DAC-1003", GivenNames: "小龍", FamilyName: "李", DateOfBirth: mustDate(t, "1990-01-30"),
		Email: "li@example.org", LicenceStart: mustDate(t, "2024-02-01"), LicenceExpiry: mustDate(t, "2027-01-31"), Status: "revoked"}
	rows := func(ds ...Driver) []Driver { return ds }

	tests := []struct {
		name    string
		in      string
		want    []Driver
		lines   []int
		noEmail int
	}{
		{
			name: "LF, ISO dates, normalised values",
			in: regHeader + "\n" +
				"dac-1001, Zoë ,O’Brien,1980-03-27,zoe@EXAMPLE.org,07700 900 123,al86xf,2024-01-05,2027-01-04,Active\n" +
				"DAC-1002,Łukasz,Wójcik,1975-11-02,,,,2025-06-01,2026-05-31,suspended\n" +
				"DAC-1003,小龍,李,1990-01-30,li@example.org,,,2024-02-01,2027-01-31,REVOKED\n",
			want: rows(zoe, lukasz, li), lines: []int{2, 3, 4}, noEmail: 1,
		},
		{
			name: "CRLF, byte order mark, DD/MM/YYYY dates, no final line end",
			in: "\ufeff" + regHeader + "\r\n" +
				"DAC-1001,Zoë,O’Brien,27/03/1980,zoe@example.org,07700900123,AL8 6XF,05/01/2024,4/1/2027,active\r\n" +
				"DAC-1003,小龍,李,30/01/1990,li@example.org,,,01/02/2024,31/01/2027,revoked",
			want: rows(zoe, li), lines: []int{2, 3},
		},
		{
			name: "columns in any order and any case, with a council column",
			in: "STATUS,Council,Licence_Expiry,licence_start,postcode,phone,email,date_of_birth,family_name,given_names,LICENCE_NUMBER\n" +
				"active,Dacorum,2027-01-04,2024-01-05,AL8 6XF,07700900123,zoe@example.org,1980-03-27,O’Brien,Zoë,DAC-1001\n" +
				"revoked,Dacorum Borough Council,2027-01-31,2024-02-01,,,li@example.org,1990-01-30,李,小龍,DAC-1003\n",
			want: rows(zoe, li), lines: []int{2, 3},
		},
		{
			name: "quoted fields with commas, quotes and new lines keep line numbers right",
			in: regHeader + "\n" +
				"\"DAC-1001\",\"Zoë\",\"O’Brien\",1980-03-27,\"zoe@example.org\",\"07700 900 123\",\"AL8 6XF\",2024-01-05,2027-01-04,active\n" +
				"DAC-1004,\"Mary\nJane\",Smith,1985-05-05,\"smith,\"\"mj\"\"@example.org\",,,2024-01-01,2027-01-01,active\n" +
				"DAC-1003,小龍,李,1990-01-30,li@example.org,,,2024-02-01,2027-01-31,revoked\n",
			want: rows(zoe, Driver{LicenceNumber: "DAC-1004", GivenNames: "Mary Jane", FamilyName: "Smith", DateOfBirth: mustDate(t, "1985-05-05"),
				Email: `smith,"mj"@example.org`, LicenceStart: mustDate(t, "2024-01-01"), LicenceExpiry: mustDate(t, "2027-01-01"), Status: "active"}, li),
			lines: []int{2, 3, 5},
		},
		{
			name: "blank lines and rows of empty cells are skipped",
			in: regHeader + "\n\n" +
				"DAC-1001,Zoë,O’Brien,1980-03-27,zoe@example.org,07700900123,AL8 6XF,2024-01-05,2027-01-04,active\n" +
				",,,,,,,,,\n , , ,,,,,,,\n",
			want: rows(zoe), lines: []int{3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseString(t, tt.in)
			if !f.OK() {
				t.Fatalf("problems: %q", problemStrings(f.Problems))
			}
			var got []Driver
			var lines []int
			for _, r := range f.Rows {
				got = append(got, r.Driver)
				lines = append(lines, r.Line)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("drivers (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.lines, lines); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			if f.NoEmail != tt.noEmail {
				t.Errorf("NoEmail = %d, want %d", f.NoEmail, tt.noEmail)
			}
		})
	}
}

func TestParseRegisterWarnsAboutMissingEmail(t *testing.T) {
	f := parseString(t, regHeader+"\nDAC-1002,Łukasz,Wójcik,1975-11-02,,,,2025-06-01,2026-05-31,active\n")
	want := []string{"line 2, column email: is empty: this driver cannot sign in online or get reminder emails"}
	if diff := cmp.Diff(want, problemStrings(f.Warnings)); diff != "" || !f.OK() {
		t.Errorf("warnings (-want +got):\n%s\nproblems %q", diff, problemStrings(f.Problems))
	}
}

const goodRow = "DAC-1001,Zoë,O’Brien,1980-03-27,zoe@example.org,07700900123,AL8 6XF,2024-01-05,2027-01-04,active"

func TestParseRegisterProblems(t *testing.T) {
	row := func(kv ...string) string { // goodRow with fields replaced: index, value, ...
		f := strings.Split(goodRow, ",")
		for i := 0; i+1 < len(kv); i += 2 {
			var n int
			fmt.Sscan(kv[i], &n)
			f[n] = kv[i+1]
		}
		return strings.Join(f, ",")
	}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty file", "", []string{"The file is empty. Upload a CSV file with a header row (licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status) and one row per licensed driver."}},
		{"only a byte order mark and blank lines", "\ufeff\n\n", []string{"line 1: the first line must be the header row (licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status) but it is empty"}},
		{"header only", regHeader + "\r\n", []string{"The file has a header row but no drivers. Add one row for each licensed driver under the header."}},
		{"header only with empty rows", regHeader + "\n,,,,,,,,,\n", []string{"The file has a header row but no drivers. Add one row for each licensed driver under the header."}},
		{"missing column", strings.Replace(regHeader, ",phone", "", 1) + "\n", []string{"line 1, column phone: is missing from the header row"}},
		{"unknown column", regHeader + ",notes\n", []string{`line 1, column "notes": is not a register column. The columns are licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status, and optionally council and status_date`}},
		{"misspelt column", strings.Replace(regHeader, "family_name", "surname", 1) + "\n", []string{
			`line 1, column "surname": is not a register column. The columns are licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status, and optionally council and status_date`,
			"line 1, column family_name: is missing from the header row"}},
		{"duplicate column", regHeader + ",Email\n", []string{"line 1, column email: appears twice in the header (columns 5 and 11)"}},
		{"empty column name", regHeader + ", \n", []string{"line 1: column 11 of the header has no name"}},
		{"a semicolon-separated file", strings.ReplaceAll(regHeader, ",", ";") + "\n", []string{"line 1: the header row has only one column: the values seem to be separated by semicolons or tabs, not commas. Save the file as “CSV UTF-8 (comma delimited)”"}},
		{"too few values", regHeader + "\n" + goodRow + "\nDAC-1002,Ama,Mensah\n", []string{"line 3: has 3 values but the header has 10 columns; check for a missing or extra comma, or a value with a comma that is not in double quotes"}},
		{"unquoted comma", regHeader + "\n" + row("2", "O’Brien, Jr") + "\n", []string{"line 2: has 11 values but the header has 10 columns; check for a missing or extra comma, or a value with a comma that is not in double quotes"}},
		{"bare quote", regHeader + "\n" + row("1", `Zo"e`) + "\n" + row("0", "DAC-2") + "\n", []string{`line 2: a value has a double quote (") in it but does not start with one. Put the whole value in double quotes and write each double quote inside it twice ("")`}},
		{"unclosed quote", regHeader + "\n" + row("1", `"Zoë`) + "\n", []string{"line 2: a value in double quotes is not closed properly. Check the double quotes from this line on: each value that starts with one must end with one"}},
		{"licence number empty", regHeader + "\n" + row("0", "") + "\n", []string{"line 2, column licence_number: is empty"}},
		{"licence number with a space", regHeader + "\n" + row("0", "DAC 1001") + "\n", []string{`line 2, column licence_number: "DAC 1001" is not a licence number: use 3 to 20 letters, digits and hyphens`}},
		{"licence number too short", regHeader + "\n" + row("0", "D1") + "\n", []string{`line 2, column licence_number: "D1" is not a licence number: use 3 to 20 letters, digits and hyphens`}},
		{"licence number too long", regHeader + "\n" + row("0", "DAC-123456789012345678") + "\n", []string{`line 2, column licence_number: "DAC-123456789012345678" is not a licence number: use 3 to 20 letters, digits and hyphens`}},
		{"licence number only hyphens", regHeader + "\n" + row("0", "---") + "\n", []string{`line 2, column licence_number: "---" is not a licence number: use 3 to 20 letters, digits and hyphens`}},
		{"given names with digits", regHeader + "\n" + row("1", "Zoë2") + "\n", []string{`line 2, column given_names: "Zoë2" can only contain letters, spaces, hyphens, apostrophes and full stops, and be at most 100 characters`}},
		{"formula as a name", regHeader + "\n" + row("1", "=HYPERLINK(1)") + "\n", []string{`line 2, column given_names: "=HYPERLINK(1)" can only contain letters, spaces, hyphens, apostrophes and full stops, and be at most 100 characters`}},
		{"family name empty", regHeader + "\n" + row("2", " ") + "\n", []string{"line 2, column family_name: is empty: give the driver's family name"}},
		{"date of birth empty", regHeader + "\n" + row("3", "") + "\n", []string{"line 2, column date_of_birth: is empty: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)"}},
		{"date of birth in another form", regHeader + "\n" + row("3", "27 March 1980") + "\n", []string{`line 2, column date_of_birth: "27 March 1980" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`}},
		{"American date", regHeader + "\n" + row("3", "03/27/1980") + "\n", []string{`line 2, column date_of_birth: "03/27/1980" is not a real date`}},
		{"date of birth not real", regHeader + "\n" + row("3", "1980-02-30") + "\n", []string{`line 2, column date_of_birth: "1980-02-30" is not a real date`}},
		{"two-digit year", regHeader + "\n" + row("3", "27/03/80") + "\n", []string{`line 2, column date_of_birth: "27/03/80" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`}},
		{"date of birth in the future", regHeader + "\n" + row("3", "2030-01-01") + "\n", []string{"line 2, column date_of_birth: 2030-01-01 is in the future"}},
		{"date of birth too long ago", regHeader + "\n" + row("3", "1800-01-01") + "\n", []string{"line 2, column date_of_birth: 1800-01-01 is too long ago: check the year"}},
		{"expiry before start", regHeader + "\n" + row("7", "2027-01-05", "8", "2024-01-04") + "\n", []string{"line 2, column licence_expiry: 2024-01-04 is before licence_start (2027-01-05)"}},
		{"bad email", regHeader + "\n" + row("4", "zoe at example.org") + "\n", []string{`line 2, column email: "zoe at example.org" is not an email address`}},
		{"bad phone", regHeader + "\n" + row("5", "12345") + "\n", []string{`line 2, column phone: "12345" is not a UK phone number (10 or 11 digits starting with 0, or +44)`}},
		{"bad postcode", regHeader + "\n" + row("6", "AL8") + "\n", []string{`line 2, column postcode: "AL8" is not a UK postcode`}},
		{"bad status", regHeader + "\n" + row("9", "expired") + "\n", []string{`line 2, column status: "expired" is not a status: use active, suspended or revoked`}},
		{"empty status", regHeader + "\n" + row("9", "") + "\n", []string{"line 2, column status: is empty: use active, suspended or revoked"}},
		{"not UTF-8", regHeader + "\n" + row("1", "Zo\xebe") + "\n", []string{"line 2, column given_names: is not UTF-8 text. Save the file as “CSV UTF-8 (comma delimited)”"}},
		{"another council's file", regHeader + ",council\n" + goodRow + ",watford\n" + row("0", "DAC-1002") + ",\n", []string{
			`line 2, column council: names "watford", but this file is being loaded into Dacorum Borough Council's register (dacorum)`,
			"line 3, column council: is empty: it must be dacorum"}},
		{"duplicate licence numbers name both lines", regHeader + "\n" + goodRow + "\n" + row("0", "DAC-1002") + "\n" + row("0", "dac-1001") + "\n",
			[]string{"line 4, column licence_number: DAC-1001 is also on line 2: each licence number can appear only once"}},
		{"duplicate of a bad row", regHeader + "\n" + row("9", "gone") + "\n" + goodRow + "\n", []string{
			`line 2, column status: "gone" is not a status: use active, suspended or revoked`,
			"line 3, column licence_number: DAC-1001 is also on line 2: each licence number can appear only once"}},
		{"every problem on a row at once", regHeader + "\n" + ",,,x,@,1,2,y,z,w\n", []string{
			"line 2, column licence_number: is empty",
			"line 2, column given_names: is empty: give the driver's given names",
			"line 2, column family_name: is empty: give the driver's family name",
			`line 2, column date_of_birth: "x" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`,
			`line 2, column licence_start: "y" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`,
			`line 2, column licence_expiry: "z" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`,
			`line 2, column email: "@" is not an email address`,
			`line 2, column phone: "1" is not a UK phone number (10 or 11 digits starting with 0, or +44)`,
			`line 2, column postcode: "2" is not a UK postcode`,
			`line 2, column status: "w" is not a status: use active, suspended or revoked`}},
		{"an Excel workbook", "PK\x03\x04\x14\x00\x06\x00", []string{"This is an Excel workbook or another zipped file, not a CSV file. In your spreadsheet choose Save As and the type “CSV UTF-8 (comma delimited)”, then upload that file."}},
		{"UTF-16", "\xff\xfel\x00i\x00", []string{"The file is saved as UTF-16 text. Save it as “CSV UTF-8 (comma delimited)” and upload it again."}},
		{"control characters are escaped in messages", regHeader + "\n" + row("9", "\x1b[2Jactive") + "\n", []string{`line 2, column status: "\x1b[2Jactive" is not a status: use active, suspended or revoked`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseString(t, tt.in)
			if diff := cmp.Diff(tt.want, problemStrings(f.Problems)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if f.ProblemCount != len(tt.want) || f.OK() {
				t.Errorf("ProblemCount = %d, OK = %t", f.ProblemCount, f.OK())
			}
			err := f.Err()
			re, ok := RegisterErrorsOf(err)
			if ErrorCode(err) != CodeInvalid || !ok || re.Total != len(tt.want) {
				t.Errorf("Err() = %v", err)
			}
		})
	}
}

func TestParseRegisterCapsProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(regHeader + "\n")
	for i := 0; i < 150; i++ {
		fmt.Fprintf(&b, "DAC-%d,Zoë,O’Brien,1980-03-27,zoe@example.org,07700900123,AL8 6XF,2024-01-05,2027-01-04,expired\n", i+1000)
	}
	f := parseString(t, b.String())
	if f.ProblemCount != 150 || len(f.Problems) != MaxRegisterProblems {
		t.Fatalf("count %d, kept %d", f.ProblemCount, len(f.Problems))
	}
	re, _ := RegisterErrorsOf(f.Err())
	if re.More() != 50 || !strings.Contains(re.Summary(), "150 problems") {
		t.Errorf("More = %d, Summary = %q", re.More(), re.Summary())
	}
	if got := f.Problems[99].Line; got != 101 {
		t.Errorf("last kept problem is on line %d, want 101", got)
	}
	t.Run("a note goes first and is not counted", func(t *testing.T) {
		f.AddNote(RegisterProblem{Line: 7, Message: "150 rows have a bad status"})
		re, _ := RegisterErrorsOf(f.Err())
		if re.Total != 150 || re.More() != 50 || len(re.Problems) != 101 || re.Problems[0].String() != "150 rows have a bad status" || re.Problems[1].Line != 2 {
			t.Errorf("Total %d, More %d, listed %d, first %v", re.Total, re.More(), len(re.Problems), re.Problems[:2])
		}
	})
}

func TestParseRegisterProgress(t *testing.T) {
	var b bytes.Buffer
	var ds []Driver
	for i := 0; i < 2500; i++ {
		ds = append(ds, Driver{LicenceNumber: fmt.Sprintf("DAC-%d", i), GivenNames: "Ama", FamilyName: "Mensah", DateOfBirth: mustDate(t, "1980-01-01"),
			LicenceStart: mustDate(t, "2024-01-01"), LicenceExpiry: mustDate(t, "2027-01-01"), Status: "active"})
	}
	if err := WriteRegister(&b, ds); err != nil {
		t.Fatal(err)
	}
	var calls []int
	opt := regOpts()
	opt.Progress = func(n int) { calls = append(calls, n) }
	f, err := ParseRegister(&b, opt)
	if err != nil || !f.OK() || len(f.Rows) != 2500 {
		t.Fatalf("err %v, problems %q, rows %d", err, problemStrings(f.Problems), len(f.Rows))
	}
	if diff := cmp.Diff([]int{1000, 2000, 2500}, calls); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		r.n = 0
		return copy(p, regHeader+"\n"+goodRow+"\n"), nil
	}
	return 0, fmt.Errorf("disk on fire")
}

func TestParseRegisterReadError(t *testing.T) {
	if _, err := ParseRegister(&failingReader{n: 1}, regOpts()); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
}

func TestDiffRegister(t *testing.T) {
	d := func(licence, email, status string) Driver {
		return Driver{LicenceNumber: licence, GivenNames: "Ama", FamilyName: "Mensah", DateOfBirth: mustDate(t, "1980-01-01"), Email: email,
			LicenceStart: mustDate(t, "2024-01-01"), LicenceExpiry: mustDate(t, "2027-01-01"), Status: status}
	}
	existing := []Driver{d("DAC-3", "a@example.org", "active"), d("DAC-1", "b@example.org", "active"), d("DAC-2", "c@example.org", "active"), d("DAC-9", "", "active")}
	for i := range existing {
		existing[i].ID, existing[i].CouncilID = int64(i+1), 7
	}
	rows := []RegisterRow{
		{Line: 2, Driver: d("DAC-1", "b@example.org", "active")},      // unchanged
		{Line: 3, Driver: d("DAC-2", "new@example.org", "suspended")}, // updated
		{Line: 4, Driver: d("DAC-4", "", "active")},                   // added
	}
	got := DiffRegister(existing, rows)
	upd := d("DAC-2", "new@example.org", "suspended")
	upd.ID, upd.CouncilID = 3, 7
	unch := d("DAC-1", "b@example.org", "active")
	unch.ID, unch.CouncilID = 2, 7
	want := RegisterDiff{
		Add:       []RegisterChange{{Line: 4, Driver: d("DAC-4", "", "active")}},
		Update:    []RegisterChange{{Line: 3, Driver: upd, Changes: []FieldChange{{"email", "c@example.org", "new@example.org"}, {"status", "active", "suspended"}}}},
		Unchanged: []RegisterChange{{Line: 2, Driver: unch}},
		Missing:   []Driver{existing[0], existing[3]},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	if got.Writes() != 2 {
		t.Errorf("Writes = %d", got.Writes())
	}
}

func TestReminderStage(t *testing.T) {
	tests := []struct {
		days      int
		sent      []int
		want      int
		wantSend  bool
		situation string
	}{
		{61, nil, 0, false, "too early"},
		{60, nil, 60, true, "first day of the 60-day stage"},
		{45, []int{60}, 0, false, "60 already sent"},
		{30, []int{60}, 30, true, "30-day stage"},
		{20, []int{60, 30}, 0, false, "30 already sent"},
		{14, []int{60, 30}, 14, true, "14-day stage"},
		{0, []int{60, 30}, 14, true, "expires today: still the 14-day stage"},
		{3, []int{60, 30, 14}, 0, false, "all sent"},
		{10, nil, 14, true, "job missed 60 and 30: only the latest is sent"},
		{25, nil, 30, true, "job missed 60: only 30 is sent"},
		{-1, nil, 0, false, "expired"},
		{50, []int{30}, 0, false, "a later stage was already sent"},
	}
	for _, tt := range tests {
		t.Run(tt.situation, func(t *testing.T) {
			got, ok := ReminderStage(tt.days, tt.sent)
			if got != tt.want || ok != tt.wantSend {
				t.Errorf("ReminderStage(%d, %v) = %d, %t; want %d, %t", tt.days, tt.sent, got, ok, tt.want, tt.wantSend)
			}
		})
	}
}

func TestRenewalForExpiry(t *testing.T) {
	expiry := mustDate(t, "2027-01-04")
	at := func(s string) time.Time { return mustDate(t, s).Time().Add(10 * time.Hour) }
	tests := []struct {
		name    string
		status  RenewalStatus
		created time.Time
		set     string
		want    bool
	}{
		{"open draft from long ago", StatusDraft, at("2020-01-01"), "", true},
		{"submitted this cycle", StatusSubmitted, at("2026-11-01"), "", true},
		{"refused this cycle", StatusRefused, at("2026-11-01"), "", true},
		{"approved last cycle, which set this expiry", StatusApproved, at("2026-12-20"), "2027-01-04", false},
		{"approved more than a year before expiry", StatusApproved, at("2025-12-01"), "", false},
		{"withdrawn this cycle", StatusWithdrawn, at("2026-12-01"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RenewalForExpiry(tt.status, tt.created, tt.set, expiry); got != tt.want {
				t.Errorf("got %t, want %t", got, tt.want)
			}
		})
	}
}

func TestNeutraliseCSVCell(t *testing.T) {
	tests := map[string]string{
		"=HYPERLINK(\"http://evil.example\",\"x\")": "'=HYPERLINK(\"http://evil.example\",\"x\")",
		"+44 7700":    "'+44 7700",
		"-2+3":        "'-2+3",
		"@SUM(A1)":    "'@SUM(A1)",
		"\tcmd":       "'\tcmd",
		"\rcmd":       "'\rcmd",
		"Zoë":         "Zoë",
		"07700900123": "07700900123",
		"":            "",
		"a=b":         "a=b",
	}
	for in, want := range tests {
		if got := NeutraliseCSVCell(in); got != want {
			t.Errorf("NeutraliseCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteSafeCSV(t *testing.T) {
	var b bytes.Buffer
	err := WriteSafeCSV(&b, []string{"name", "email"}, [][]string{
		{"Zoë, “Zo”", `=HYPERLINK("http://evil.example")@example.org`},
		{"李", "line\nbreak"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "\ufeffname,email\r\n\"Zoë, “Zo”\",\"'=HYPERLINK(\"\"http://evil.example\"\")@example.org\"\r\n李,\"line\r\nbreak\"\r\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// FuzzParseRegister: the parser never panics, and the rows it accepts, written out again and
// read back, are the same drivers.
func FuzzParseRegister(f *testing.F) {
	f.Add([]byte(regHeader + "\n" + goodRow + "\n"))
	f.Add([]byte("\ufeff" + regHeader + "\r\n" + goodRow + "\r\nDAC-2,\"Mary\nJane\",李,27/03/1980,\"a,b@example.org\",,,1/1/2024,1/1/2027,revoked\r\n"))
	f.Add([]byte(regHeader + ",council\n" + goodRow + ",dacorum\n" + goodRow + ",watford\n"))
	f.Add([]byte(regHeader + "\n\"unclosed," + goodRow + "\n"))
	f.Add([]byte(""))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseRegister(bytes.NewReader(data), regOpts())
		if err != nil {
			t.Fatalf("ParseRegister returned a read error for in-memory input: %v", err)
		}
		if len(file.Problems) > MaxRegisterProblems || file.ProblemCount < len(file.Problems) {
			t.Fatalf("problems: kept %d, counted %d", len(file.Problems), file.ProblemCount)
		}
		if len(file.Rows) == 0 {
			return
		}
		var drivers []Driver
		for _, r := range file.Rows {
			drivers = append(drivers, r.Driver)
		}
		var out bytes.Buffer
		if err := WriteRegister(&out, drivers); err != nil {
			t.Fatal(err)
		}
		again, err := ParseRegister(&out, regOpts())
		if err != nil {
			t.Fatal(err)
		}
		if !again.OK() {
			t.Fatalf("accepted rows refused when read again: %q\nfile:\n%s", problemStrings(again.Problems), out.String())
		}
		var got []Driver
		for _, r := range again.Rows {
			got = append(got, r.Driver)
		}
		if diff := cmp.Diff(drivers, got); diff != "" {
			t.Fatalf("round trip changed drivers (-first +second):\n%s", diff)
		}
	})
}

func TestParseRegisterStatusDate(t *testing.T) {
	head := regHeader + ",status_date\n"
	row := func(status, date string) string {
		return "DAC-1001,Zoë,Brown,1980-03-27,zoe@example.org,,,2024-01-05,2027-01-04," + status + "," + date + "\n"
	}
	for _, tc := range []struct {
		name     string
		in       string
		want     Date
		problems []string
	}{
		{"no column", regHeader + "\n" + strings.TrimSuffix(row("suspended", ""), ",\n") + "\n", Date{}, nil},
		{"empty", head + row("suspended", ""), Date{}, nil},
		{"ISO date", head + row("suspended", "2026-05-01"), mustDate(t, "2026-05-01"), nil},
		{"UK date", head + row("active", "1/6/2026"), mustDate(t, "2026-06-01"), nil},
		{"today", head + row("revoked", "2026-11-26"), regToday, nil},
		{"future", head + row("suspended", "2026-11-27"), Date{},
			[]string{"line 2, column status_date: 2026-11-27 is in the future: give the day the status took effect, or leave it empty for today"}},
		{"not a date", head + row("suspended", "soon"), Date{},
			[]string{`line 2, column status_date: "soon" is not a date: write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)`}},
		{"not a real date", head + row("suspended", "2026-02-30"), Date{},
			[]string{`line 2, column status_date: "2026-02-30" is not a real date`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parseString(t, tc.in)
			if diff := cmp.Diff(tc.problems, problemStrings(f.Problems), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("problems -want +got\n%s", diff)
			}
			if len(tc.problems) > 0 {
				return
			}
			if got := f.Rows[0].Driver.StatusFrom; got != tc.want {
				t.Errorf("StatusFrom = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDriverChangesStatusDate(t *testing.T) {
	old := Driver{LicenceNumber: "DAC-1", GivenNames: "A", FamilyName: "B", Status: DriverSuspended, StatusFrom: Date{2026, 5, 1}}
	for _, tc := range []struct {
		name string
		new  Driver
		want []FieldChange
	}{
		{"no date given: unchanged", Driver{LicenceNumber: "DAC-1", GivenNames: "A", FamilyName: "B", Status: DriverSuspended}, nil},
		{"same date", Driver{LicenceNumber: "DAC-1", GivenNames: "A", FamilyName: "B", Status: DriverSuspended, StatusFrom: Date{2026, 5, 1}}, nil},
		{"date corrected", Driver{LicenceNumber: "DAC-1", GivenNames: "A", FamilyName: "B", Status: DriverSuspended, StatusFrom: Date{2026, 4, 1}},
			[]FieldChange{{Field: "status_date", Old: "2026-05-01", New: "2026-04-01"}}},
		{"reinstated", Driver{LicenceNumber: "DAC-1", GivenNames: "A", FamilyName: "B", Status: DriverActive},
			[]FieldChange{{Field: "status", Old: "suspended", New: "active"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, DriverChanges(old, tc.new)); diff != "" {
				t.Errorf("-want +got\n%s", diff)
			}
		})
	}
}

func TestStatusFromOf(t *testing.T) {
	today := Date{2026, 11, 26}
	held := &Driver{Status: DriverSuspended, StatusFrom: Date{2026, 5, 1}}
	for _, tc := range []struct {
		name string
		old  *Driver
		row  Driver
		want Date
	}{
		{"new active driver", nil, Driver{Status: DriverActive}, Date{}},
		{"new suspended driver", nil, Driver{Status: DriverSuspended}, today},
		{"new driver with a date", nil, Driver{Status: DriverRevoked, StatusFrom: Date{2026, 1, 2}}, Date{2026, 1, 2}},
		{"unchanged status keeps its day", held, Driver{Status: DriverSuspended}, Date{2026, 5, 1}},
		{"changed status: today", held, Driver{Status: DriverActive}, today},
		{"changed status with a date", held, Driver{Status: DriverRevoked, StatusFrom: Date{2026, 6, 1}}, Date{2026, 6, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := StatusFromOf(tc.old, tc.row, today); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
