package service

import (
	"context"
	"crypto/rand"
	"strings"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// DriverHome is what a signed-in driver's task list is built from.
type DriverHome struct {
	Driver    domain.Driver
	Council   domain.Council
	Renewal   domain.Renewal
	Awareness domain.Awareness
}

// DriverHome loads (or starts) the driver's renewal and their awareness standing.
func (s *Service) DriverHome(ctx context.Context, driverID int64) (DriverHome, error) {
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return DriverHome{}, err
	}
	council, err := s.councilByID(ctx, driver.CouncilID)
	if err != nil {
		return DriverHome{}, domain.Internal(err)
	}
	r, err := s.store.OpenRenewal(ctx, driverID)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// A driver whose renewal was decided, or who withdrew a sent renewal, sees it (and starts
		// again from there); otherwise a new draft is started. A draft withdrawn when the
		// licensing team took the renewal on paper has no reference and is not shown.
		if latest, lerr := s.store.LatestRenewal(ctx, driverID); lerr == nil && (latest.Status != domain.StatusWithdrawn || latest.Reference != "") {
			r, err = latest, nil
		} else {
			r, err = s.store.StartRenewal(ctx, driver, s.now())
		}
	}
	if err != nil {
		return DriverHome{}, domain.Internal(err)
	}
	aw, err := s.driverAwareness(ctx, driverID)
	if err != nil {
		return DriverHome{}, domain.Internal(err)
	}
	return DriverHome{Driver: driver, Council: council, Renewal: r, Awareness: aw}, nil
}

// DriverRenewal is the renewal DriverHome shows the driver, for pages that need only its
// answers: one read when the driver has a renewal in progress (nearly always), DriverHome's
// whole work otherwise.
func (s *Service) DriverRenewal(ctx context.Context, driverID int64) (domain.Renewal, error) {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err == nil {
		return r, nil
	}
	if domain.ErrorCode(err) != domain.CodeNotFound {
		return domain.Renewal{}, domain.Internal(err)
	}
	h, err := s.DriverHome(ctx, driverID)
	return h.Renewal, err
}

// SaveAnswers applies a change to the driver's draft. The web layer has validated the values.
func (s *Service) SaveAnswers(ctx context.Context, driverID int64, change func(*domain.Answers)) error {
	_, err := s.store.UpdateDraft(ctx, driverID, s.now(), change)
	return err
}

// ShowLeaflet returns the current driver leaflet and records that it was issued to the driver
// online (once per version).
func (s *Service) ShowLeaflet(ctx context.Context, driverID int64) (domain.LeafletVersion, error) {
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return domain.LeafletVersion{}, err
	}
	if _, err := s.draft(ctx, driverID); err != nil {
		return domain.LeafletVersion{}, err
	}
	// Shown again (the usual case after the first view): the issue of the current version is
	// on record already, and IssueOnline would record nothing, so its write transaction is not
	// taken (a void appended after this read is as if it came after this request).
	if aw, err := s.driverAwareness(ctx, driverID); err == nil && aw.Status != domain.AwarenessNoLeaflet &&
		aw.Issue.ID != 0 && aw.Issue.LeafletID == aw.Current.ID {
		return aw.Current, nil
	}
	_, v, err := s.store.IssueOnline(ctx, driver, s.now())
	return v, err
}

// CheckQuiz marks the driver's answers to the current leaflet's check questions
// (domain.MarkQuiz). All correct records that the driver passed, which opens the acknowledgement.
func (s *Service) CheckQuiz(ctx context.Context, driverID, leafletID int64, answers []int) ([]domain.QuizResult, bool, error) {
	aw, err := s.driverAwareness(ctx, driverID)
	if err != nil {
		return nil, false, domain.Internal(err)
	}
	if aw.Status == domain.AwarenessNoLeaflet {
		return nil, false, domain.NewError(domain.CodeConflict, "no_leaflet", "The awareness leaflet has not been published yet.")
	}
	if leafletID != aw.Current.ID {
		return nil, false, domain.NewError(domain.CodeInvalid, "leaflet_not_current", "A newer version of the leaflet has been published. Read it and answer the questions again.")
	}
	results, all := domain.MarkQuiz(aw.Current.Quiz, answers)
	if all {
		if err := s.SaveAnswers(ctx, driverID, func(a *domain.Answers) { a.QuizPassedLeafletID = leafletID }); err != nil {
			return results, false, err
		}
	}
	return results, all, nil
}

// Acknowledge records the driver's confirmation that they read and understood leafletID. A
// renewal whose fee was paid while a new leaflet version was published was held for this: it is
// sent now, without paying again (sent reports that).
func (s *Service) Acknowledge(ctx context.Context, driverID, leafletID int64) (ev domain.Evidence, sent bool, err error) {
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return domain.Evidence{}, false, err
	}
	ev, err = s.store.AcknowledgeOnline(ctx, driver, leafletID, s.now())
	if err != nil {
		return ev, false, err
	}
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil || r.Status != domain.StatusDraft {
		return ev, false, nil
	}
	fees, err := s.store.FeeStanding(ctx, r.ID)
	if err != nil || !fees.Settled() || len(r.Answers.MissingSections()) > 0 {
		return ev, false, nil
	}
	done, err := s.store.SubmitRenewal(ctx, driverID, s.now(), r.Reference, true, s.confirmationMessage(ctx, r))
	if err != nil {
		return ev, false, err
	}
	return ev, done.Status == domain.StatusSubmitted, nil
}

// Submit sends the driver's renewal, refusing unless every rule holds (see store.SubmitRenewal).
// Where the council takes the fee online, sending happens when the payment succeeds
// (PaymentReturned), and this refuses an unpaid renewal; otherwise the renewal is sent and the
// licensing team takes the fee another way.
func (s *Service) Submit(ctx context.Context, driverID int64) (domain.Renewal, error) {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return domain.Renewal{}, err
	}
	ref := r.Reference
	if ref == "" {
		ref = NewReference()
		r.Reference = ref
	}
	online := s.onlinePayments(ctx, r.CouncilID)
	return s.store.SubmitRenewal(ctx, driverID, s.now(), ref, online, s.confirmationMessage(ctx, r))
}

func (s *Service) draft(ctx context.Context, driverID int64) (domain.Renewal, error) {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return r, err
	}
	if r.Status != domain.StatusDraft {
		return r, domain.NewError(domain.CodeConflict, "not_draft", "You have already sent this renewal.")
	}
	return r, nil
}

// referenceAlphabet is Crockford's base 32: no I, L, O or U, so a reference read out over the
// phone is not misheard.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReference makes a reference a driver can quote, like TR-7K3F-9Q2D.
func NewReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var sb strings.Builder
	sb.WriteString("TR-")
	for i, c := range b {
		if i == 4 {
			sb.WriteByte('-')
		}
		sb.WriteByte(referenceAlphabet[int(c)%len(referenceAlphabet)])
	}
	return sb.String()
}

// Councils lists the ten councils, for the sign-in form.
func (s *Service) Councils(ctx context.Context) ([]domain.Council, error) {
	cs, err := s.councils(ctx)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return cs, nil
}

// CurrentLeaflet returns the driver leaflet in force, without recording anything: for the
// public, printable copy.
func (s *Service) CurrentLeaflet(ctx context.Context) (domain.LeafletVersion, error) {
	return s.currentLeaflet(ctx, domain.AudienceDriver)
}
