package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

func addStaff(t *testing.T, st *store.Store, email string, role domain.Role, councilID int64) domain.StaffUser {
	t.Helper()
	entry := domain.AuditEntry{At: now, Actor: "test", Action: "account.created"}
	u, err := st.CreateStaff(context.Background(), domain.StaffUser{Email: email, Name: "Test Person", Role: role, CouncilID: councilID},
		"$argon2id$test-hash", true, now, entry)
	if err != nil {
		t.Fatalf("CreateStaff %s: %v", email, err)
	}
	return u
}

func auditActions(t *testing.T, st *store.Store) []string {
	t.Helper()
	entries, _, err := st.AuditEntries(context.Background(), store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action+" "+entries[i].Target)
	}
	return out
}

func TestCreateAndFindStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	dacorum, _ := st.CouncilBySlug(ctx, "dacorum")
	officer := addStaff(t, st, "officer@dacorum.gov.uk", domain.RoleOfficer, dacorum.ID)
	admin := addStaff(t, st, "admin@herts.gov.uk", domain.RoleAdmin, 0)
	analyst := addStaff(t, st, "analyst@herts.gov.uk", domain.RoleAnalyst, 0)

	_, err := st.CreateStaff(ctx, domain.StaffUser{Email: "officer@dacorum.gov.uk", Name: "Again", Role: domain.RoleAnalyst}, "h", false, now)
	if reasonOf(t, err) != "email_taken" {
		t.Fatalf("duplicate email: %v", err)
	}
	got, err := st.StaffByEmail(ctx, "officer@dacorum.gov.uk")
	if err != nil || got.ID != officer.ID || got.CouncilID != dacorum.ID || got.Role != domain.RoleOfficer {
		t.Fatalf("StaffByEmail = %+v, %v", got, err)
	}
	if _, err := st.StaffByEmail(ctx, "nobody@x.gov.uk"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("unknown email: %v", err)
	}
	sec, err := st.StaffSecretsByID(ctx, officer.ID)
	if err != nil || sec.PasswordHash != "$argon2id$test-hash" || !sec.PasswordChangeRequired || sec.TOTPSecretEnc != "" {
		t.Fatalf("secrets = %+v, %v", sec, err)
	}
	list, err := st.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, u := range list {
		ids = append(ids, u.ID)
	}
	if diff := cmp.Diff([]int64{admin.ID, analyst.ID, officer.ID}, ids); diff != "" {
		t.Errorf("ListStaff order: admins, analysts, officers (-want +got):\n%s", diff)
	}
	want := []string{"account.created " + store.StaffTarget(officer), "account.created " + store.StaffTarget(admin), "account.created " + store.StaffTarget(analyst)}
	if diff := cmp.Diff(want, auditActions(t, st)); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestStaffFailuresLockAndReset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	u := addStaff(t, st, "a@herts.gov.uk", domain.RoleAdmin, 0)
	at := now
	for i := 1; i <= 5; i++ {
		f, err := st.RecordStaffFailure(ctx, u.ID, at, 5, 15*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if f.Attempts != i || f.JustLocked != (i == 5) || f.LockedUntil.IsZero() != (i < 5) {
			t.Fatalf("failure %d: %+v", i, f)
		}
	}
	got, _ := st.StaffByID(ctx, u.ID)
	if !got.LockedUntil.Equal(now.Add(15*time.Minute)) || got.FailedAttempts != 5 {
		t.Fatalf("after 5 failures: locked until %v, %d failures", got.LockedUntil, got.FailedAttempts)
	}
	// A failure while locked keeps the lock where it was.
	f, _ := st.RecordStaffFailure(ctx, u.ID, now.Add(time.Minute), 5, 15*time.Minute)
	if f.JustLocked || !f.LockedUntil.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("failure while locked: %+v", f)
	}
	// Once the lock has run out, counting starts again.
	f, _ = st.RecordStaffFailure(ctx, u.ID, now.Add(16*time.Minute), 5, 15*time.Minute)
	if f.Attempts != 1 || !f.LockedUntil.IsZero() {
		t.Fatalf("failure after the lock ran out: %+v", f)
	}
	if err := st.RecordStaffSignIn(ctx, u.ID, now.Add(17*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, _ = st.StaffByID(ctx, u.ID)
	if got.FailedAttempts != 0 || !got.LockedUntil.IsZero() {
		t.Fatalf("after sign-in: %+v", got)
	}
}

func TestUseStaffTOTPStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	u := addStaff(t, st, "a@herts.gov.uk", domain.RoleAdmin, 0)
	if stored, err := st.EnsureStaffTOTPSecret(ctx, u.ID, "v1.first", now); err != nil || stored != "v1.first" {
		t.Fatalf("first secret: %q %v", stored, err)
	}
	if stored, _ := st.EnsureStaffTOTPSecret(ctx, u.ID, "v1.second", now); stored != "v1.first" {
		t.Fatalf("a second set-up replaced the secret: %q", stored)
	}
	if ok, _ := st.UseStaffTOTPStep(ctx, u.ID, 100, false, now); ok {
		t.Fatal("a code was accepted before the set-up was confirmed")
	}
	if ok, _ := st.UseStaffTOTPStep(ctx, u.ID, 100, true, now); !ok {
		t.Fatal("confirming the set-up failed")
	}
	if ok, _ := st.UseStaffTOTPStep(ctx, u.ID, 101, true, now); ok {
		t.Fatal("confirmed twice")
	}
	for _, tc := range []struct {
		step int64
		ok   bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		if ok, err := st.UseStaffTOTPStep(ctx, u.ID, tc.step, false, now); ok != tc.ok || err != nil {
			t.Errorf("step %d: %t %v, want %t", tc.step, ok, err, tc.ok)
		}
	}
	t.Run("two requests with the same code: one wins", func(t *testing.T) {
		var wg sync.WaitGroup
		wins := make(chan bool, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := st.UseStaffTOTPStep(ctx, u.ID, 200, false, now)
				if err != nil {
					t.Error(err)
				}
				wins <- ok
			}()
		}
		wg.Wait()
		close(wins)
		n := 0
		for ok := range wins {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d requests used step 200, want exactly 1", n)
		}
	})
}

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	u := addStaff(t, st, "a@herts.gov.uk", domain.RoleAdmin, 0)
	if left, issued, _ := st.RecoveryCodesLeft(ctx, u.ID); left != 0 || issued {
		t.Fatalf("before: %d %t", left, issued)
	}
	if ok, err := st.IssueRecoveryCodes(ctx, u.ID, []string{"h1", "h2", "h3"}); !ok || err != nil {
		t.Fatalf("issue: %t %v", ok, err)
	}
	if ok, _ := st.IssueRecoveryCodes(ctx, u.ID, []string{"h4"}); ok {
		t.Fatal("codes issued a second time")
	}
	if ok, _ := st.UseRecoveryCode(ctx, u.ID, "h2", now); !ok {
		t.Fatal("a right code was refused")
	}
	if ok, _ := st.UseRecoveryCode(ctx, u.ID, "h2", now); ok {
		t.Fatal("a code was used twice")
	}
	if ok, _ := st.UseRecoveryCode(ctx, u.ID, "h4", now); ok {
		t.Fatal("a code never issued was accepted")
	}
	other := addStaff(t, st, "b@herts.gov.uk", domain.RoleAdmin, 0)
	if ok, _ := st.UseRecoveryCode(ctx, other.ID, "h1", now); ok {
		t.Fatal("another account's code was accepted")
	}
	if left, issued, _ := st.RecoveryCodesLeft(ctx, u.ID); left != 2 || !issued {
		t.Fatalf("after one use: %d left, issued %t", left, issued)
	}
	if _, err := st.ResetStaffTwoFactor(ctx, u.ID, now); err != nil {
		t.Fatal(err)
	}
	if left, issued, _ := st.RecoveryCodesLeft(ctx, u.ID); left != 0 || issued {
		t.Fatalf("after a reset: %d %t", left, issued)
	}
}

func TestStaffSessionsEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	u := addStaff(t, st, "a@herts.gov.uk", domain.RoleAdmin, 0)
	sess := func(kind string, subject int64) domain.Session {
		return domain.Session{Kind: kind, SubjectID: subject, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	}
	create := func(hash string, s domain.Session) {
		if err := st.CreateSession(ctx, hash, s); err != nil {
			t.Fatal(err)
		}
	}
	alive := func(hash string) bool {
		_, err := st.TouchSession(ctx, hash, now, time.Hour)
		return err == nil
	}
	create("staff-1", sess(domain.SessionStaff, u.ID))
	create("staff-2", sess(domain.SessionStaff, u.ID))
	create("pending", sess(domain.SessionPendingStaff, u.ID))
	create("driver-same-id", sess(domain.SessionDriver, u.ID)) // a driver whose id happens to match
	if n, _ := st.CountStaffSessions(ctx, u.ID, now); n != 2 {
		t.Fatalf("CountStaffSessions = %d, want 2", n)
	}
	if n, err := st.EndStaffSessions(ctx, u.ID, "staff-1"); n != 2 || err != nil {
		t.Fatalf("EndStaffSessions keeping one: %d %v", n, err)
	}
	if !alive("staff-1") || alive("staff-2") || alive("pending") || !alive("driver-same-id") {
		t.Fatal("the wrong sessions ended")
	}
	create("staff-3", sess(domain.SessionStaff, u.ID))
	if n, err := st.SetStaffDisabled(ctx, u.ID, true, now); n != 2 || err != nil {
		t.Fatalf("disable: %d %v", n, err)
	}
	if alive("staff-1") || alive("staff-3") || !alive("driver-same-id") {
		t.Fatal("disabling left a staff session alive, or ended a driver's")
	}
	got, _ := st.StaffByID(ctx, u.ID)
	if !got.Disabled {
		t.Fatal("not disabled")
	}
	if _, err := st.SetStaffDisabled(ctx, u.ID, false, now); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.StaffByID(ctx, u.ID); got.Disabled {
		t.Fatal("still disabled")
	}
	if _, err := st.SetStaffDisabled(ctx, 9999, true, now); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("disable a missing account: %v", err)
	}
	create("staff-4", sess(domain.SessionStaff, u.ID))
	if n, err := st.SetStaffPassword(ctx, u.ID, "new-hash", false, "", now); n != 1 || err != nil {
		t.Fatalf("SetStaffPassword: %d %v", n, err)
	}
	if sec, _ := st.StaffSecretsByID(ctx, u.ID); sec.PasswordHash != "new-hash" || sec.PasswordChangeRequired {
		t.Fatalf("after SetStaffPassword: %+v", sec)
	}
	if v, err := st.VerifyAudit(ctx); err != nil || v.FirstBrokenID != 0 {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}
