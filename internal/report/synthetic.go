package report

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"time"

	"github.com/herts-msp/taxi-renewals/db"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// SyntheticVersion is a driver leaflet version the generator publishes.
type SyntheticVersion struct {
	Label         string
	RequiresReack bool
	PublishedAt   time.Time
}

// SyntheticOptions shape a synthetic history.
type SyntheticOptions struct {
	Drivers  int
	Councils int       // 0: the ten Hertfordshire councils; more adds "Synthetic Authority 11", …
	Years    int       // length of the history, ending at Now; 0: 3
	Now      time.Time // the end of the history (the service clock)
	Seed     uint64
	// Versions to publish; nil: five versions over the history (1.0, 1.1 minor, 2.0, 2.1 minor, 3.0).
	Versions []SyntheticVersion
	// ChunkDrivers is how many drivers each transaction loads; 0: 50,000.
	ChunkDrivers int
	// Progress, when set, is called after each transaction.
	Progress func(SyntheticStats)
}

// SyntheticStats count what the generator wrote.
type SyntheticStats struct {
	Drivers, LicencePeriods, Evidence, Voids, Renewals int
	Elapsed                                            time.Duration
}

// DefaultVersions is the leaflet history the generator publishes over [start, now].
func DefaultVersions(start, now time.Time) []SyntheticVersion {
	span := now.Sub(start)
	at := func(f float64) time.Time {
		return start.Add(time.Duration(f * float64(span))).Truncate(time.Second)
	}
	return []SyntheticVersion{
		{"1.0", true, start},
		{"1.1", false, at(0.22)},
		{"2.0", true, at(0.45)},
		{"2.1", false, at(0.70)},
		{"3.0", true, at(0.88)},
	}
}

// synth is the state of one generation.
type synth struct {
	opt      SyntheticOptions
	rng      *rand.Rand
	london   *time.Location
	start    time.Time
	councils []int64
	weights  []int
	wsum     int
	versions []domain.LeafletVersion
	nextEv   int64
	nextRen  int64
	stats    SyntheticStats

	drivers  []store.BulkDriver
	periods  []store.BulkLicencePeriod
	evidence []store.BulkEvidence
	renewals []store.BulkRenewal
}

// syntheticName picks a made-up given name and family name.
func (s *synth) syntheticName() (string, string) {
	given := []string{"Amira", "Ben", "Chidi", "Dorota", "Eamon", "Fatima", "Gurpreet", "Hannah", "Imran", "Jasmine", "Kofi", "Łukasz", "Mehmet", "Niamh", "Oluwaseun", "Priya", "Rhys", "Siobhán", "Tomasz", "Zoë"}
	family := []string{"Ahmed", "Brown", "Chowdhury", "Davies", "Evans", "Fernandes", "Green", "Hussain", "Iqbal", "Jones", "Kowalski", "Lewis", "Mensah", "Nowak", "O’Brien", "Patel", "Quinn", "Rahman", "Singh", "Taylor"}
	return given[s.rng.IntN(len(given))], family[s.rng.IntN(len(family))]
}

// GenerateSynthetic builds a synthetic history in st: councils, driver leaflet versions, drivers
// with licence histories (renewed, lapsed and renewed late, lapsed for good), issue and
// acknowledgement evidence online, in person, by post and by email (about three records per
// driver), voided records and their corrections, and renewals submitted and decided. The same
// options and // seed give the same history (on an empty database). It writes through the store's typed bulk
// writers, in transactions of opt.ChunkDrivers drivers.
func GenerateSynthetic(ctx context.Context, st *store.Store, opt SyntheticOptions) (SyntheticStats, error) {
	began := time.Now()
	if opt.Drivers < 0 {
		return SyntheticStats{}, fmt.Errorf("synthetic: negative number of drivers")
	}
	if opt.Years <= 0 {
		opt.Years = 3
	}
	if opt.Councils <= 0 {
		opt.Councils = 10
	}
	if opt.ChunkDrivers <= 0 {
		opt.ChunkDrivers = 50_000
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	opt.Now = opt.Now.UTC().Truncate(time.Second)
	london, err := time.LoadLocation(domain.ReportZone)
	if err != nil {
		return SyntheticStats{}, err
	}
	s := &synth{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)), london: london,
		start: opt.Now.AddDate(-opt.Years, 0, 0)}
	if s.opt.Versions == nil {
		s.opt.Versions = DefaultVersions(s.start, opt.Now)
	}
	if err := s.setup(ctx, st); err != nil {
		return s.stats, err
	}
	next, err := st.NextBulkIDs(ctx)
	if err != nil {
		return s.stats, err
	}
	firstDriver := next.Driver
	s.nextEv, s.nextRen = next.Evidence, next.Renewal
	for done := 0; done < opt.Drivers; {
		n := min(opt.ChunkDrivers, opt.Drivers-done)
		err := st.BulkLoad(ctx, func(b *store.Bulk) error {
			for i := range n {
				s.driver(firstDriver + int64(done+i))
			}
			return s.flush(ctx, b)
		})
		if err != nil {
			return s.stats, err
		}
		done += n
		s.stats.Drivers = done
		s.stats.Elapsed = time.Since(began)
		if opt.Progress != nil {
			opt.Progress(s.stats)
		}
	}
	s.stats.Elapsed = time.Since(began)
	return s.stats, nil
}

// flush writes the rows made so far and starts afresh.
func (s *synth) flush(ctx context.Context, b *store.Bulk) error {
	err := b.InsertDrivers(ctx, s.drivers)
	if err == nil {
		err = b.InsertLicencePeriods(ctx, s.periods)
	}
	if err == nil {
		err = b.InsertEvidence(ctx, s.evidence)
	}
	if err == nil {
		err = b.InsertRenewals(ctx, s.renewals)
	}
	s.drivers, s.periods, s.evidence, s.renewals = s.drivers[:0], s.periods[:0], s.evidence[:0], s.renewals[:0]
	return err
}

// setup adds the synthetic councils and publishes the leaflet versions.
func (s *synth) setup(ctx context.Context, st *store.Store) error {
	if s.opt.Councils > 10 {
		err := st.BulkLoad(ctx, func(b *store.Bulk) error {
			for i := 11; i <= s.opt.Councils; i++ {
				if err := b.EnsureCouncil(ctx, fmt.Sprintf("synthetic-%d", i), fmt.Sprintf("Synthetic Authority %d", i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	ids, err := st.FirstCouncilIDs(ctx, s.opt.Councils)
	if err != nil {
		return err
	}
	for _, id := range ids {
		s.councils = append(s.councils, id)
		w := 1 + len(s.councils)%3 // some councils licence two or three times as many drivers
		s.weights = append(s.weights, w)
		s.wsum += w
	}
	if len(s.councils) == 0 {
		return fmt.Errorf("synthetic: no councils")
	}
	src, err := fs.ReadFile(db.Leaflets, "leaflets/driver-v1.md")
	if err != nil {
		return err
	}
	base, err := leaflet.Parse(src)
	if err != nil {
		return err
	}
	for _, v := range s.opt.Versions {
		content := base.Content + "\nVersion " + v.Label + ".\n"
		lv, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: v.Label, Title: base.Title,
			Content: content, ContentSHA256: leaflet.Hash(content), Quiz: base.Quiz, RequiresReack: v.RequiresReack,
			PublishedAt: v.PublishedAt.UTC(), PublishedBy: "synthetic"})
		if err != nil {
			return fmt.Errorf("publish synthetic leaflet %s: %w", v.Label, err)
		}
		s.versions = append(s.versions, lv)
	}
	return nil
}

func (s *synth) pick(ps ...int) int {
	total := 0
	for _, p := range ps {
		total += p
	}
	r := s.rng.IntN(total)
	for i, p := range ps {
		if r < p {
			return i
		}
		r -= p
	}
	return len(ps) - 1
}

// versionAt is the newest version published by t, or nil.
func (s *synth) versionAt(t time.Time) *domain.LeafletVersion {
	var v *domain.LeafletVersion
	for i := range s.versions {
		if !s.versions[i].PublishedAt.After(t) {
			v = &s.versions[i]
		}
	}
	return v
}

// clock returns a time on London day d: any time of day for online activity (so records fall
// either side of midnight, in summer and winter time), office hours otherwise.
func (s *synth) clock(d domain.Date, online bool) time.Time {
	secs := 9*3600 + s.rng.IntN(8*3600)
	if online {
		secs = s.rng.IntN(24 * 3600)
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, secs, 0, s.london).UTC()
}

func londonDate(t time.Time, loc *time.Location) domain.Date { return domain.DateOf(t.In(loc)) }

func (s *synth) addEvidence(kind domain.EvidenceKind, driver, council int64, v *domain.LeafletVersion, ch domain.Channel, at time.Time, voids int64, reason string) int64 {
	id := s.nextEv
	s.nextEv++
	actorKind, actor := domain.ActorDriver, driver
	if ch != domain.ChannelOnline || kind == domain.KindVoid {
		actorKind, actor = domain.ActorStaff, 0
	}
	if voids != 0 {
		s.stats.Voids++
	}
	s.evidence = append(s.evidence, store.BulkEvidence{ID: id, Kind: kind, DriverID: driver, CouncilID: council, LeafletID: v.ID,
		ContentSHA256: v.ContentSHA256, Channel: ch, OccurredAt: at, RecordedAt: at, ActorKind: actorKind, ActorID: actor, Voids: voids, Reason: reason})
	s.stats.Evidence++
	return id
}

// maybeVoid voids a record now and then, and usually records it again correctly.
func (s *synth) maybeVoid(id int64, kind domain.EvidenceKind, driver, council int64, v *domain.LeafletVersion, ch domain.Channel, at time.Time) {
	if s.rng.IntN(100) >= 2 {
		return
	}
	vat := at.Add(time.Duration(1+s.rng.IntN(20*24)) * time.Hour)
	if vat.After(s.opt.Now) {
		return
	}
	s.addEvidence(domain.KindVoid, driver, council, v, ch, vat, id, "Recorded against the wrong driver")
	if s.rng.IntN(10) < 7 {
		s.addEvidence(kind, driver, council, v, domain.ChannelInPerson, vat.Add(time.Hour), 0, "")
	}
}

// awareness records the leaflet reaching a driver at t: an issue and, usually, the acknowledgement.
// It returns the acknowledgement's id (0 when there was none).
func (s *synth) awareness(driver, council int64, t time.Time, ackChance int) (int64, time.Time) {
	v := s.versionAt(t)
	if v == nil {
		return 0, t
	}
	ch := []domain.Channel{domain.ChannelOnline, domain.ChannelInPerson, domain.ChannelPost, domain.ChannelEmail}[s.pick(70, 20, 7, 3)]
	if ch != domain.ChannelOnline {
		t = s.clock(londonDate(t, s.london), false)
	}
	issue := s.addEvidence(domain.KindIssue, driver, council, v, ch, t, 0, "")
	s.maybeVoid(issue, domain.KindIssue, driver, council, v, ch, t)
	if s.rng.IntN(100) >= ackChance {
		return 0, t
	}
	at := t.Add(time.Duration(30+s.rng.IntN(900)) * time.Second)
	if ch == domain.ChannelPost || ch == domain.ChannelEmail {
		at = t.Add(time.Duration(1+s.rng.IntN(14*24)) * time.Hour)
	}
	if at.After(s.opt.Now) {
		return 0, t
	}
	ackCh := ch
	if ch == domain.ChannelPost {
		ackCh = domain.ChannelInPerson
	}
	ack := s.addEvidence(domain.KindAcknowledgement, driver, council, v, ackCh, at, 0, "")
	s.maybeVoid(ack, domain.KindAcknowledgement, driver, council, v, ackCh, at)
	return ack, at
}

// driver generates one driver and their history.
func (s *synth) driver(id int64) {
	r := s.rng.IntN(s.wsum)
	ci := 0
	for ; r >= s.weights[ci]; ci++ {
		r -= s.weights[ci]
	}
	council := s.councils[ci]
	today := londonDate(s.opt.Now, s.london)
	histStart := londonDate(s.start, s.london)
	span := int(DaysBetween(histStart, today))
	// The first licence in our records started up to one history-length before the history began
	// (most drivers were licensed before the leaflet existed) or during it (new drivers).
	start := histStart.AddDays(-span + s.rng.IntN(2*span-30))
	term := func() int { return []int{1, 3}[s.pick(55, 45)] }
	expiry := start.AddYears(term()).AddDays(-1)
	firstRecorded := s.clock(start, false)
	recorded := firstRecorded
	ackedBefore := false
	for {
		// Renewal: usually a few weeks before expiry; now and then a lapse and a late renewal; some
		// drivers stop.
		if s.rng.IntN(100) < 5 {
			break // stops driving: the licence lapses for good
		}
		nextStart := expiry.AddDays(1)
		applied := expiry.AddDays(-(5 + s.rng.IntN(55)))
		if s.rng.IntN(100) < 10 {
			nextStart = expiry.AddDays(10 + s.rng.IntN(110))
			applied = nextStart.AddDays(-(1 + s.rng.IntN(20)))
		}
		if applied.After(today) {
			break
		}
		at := s.clock(applied, true)
		if at.Before(s.start) || s.versionAt(at) == nil {
			// Before the records began: the licence was renewed, nothing else is known.
			s.periods = append(s.periods, store.BulkLicencePeriod{DriverID: id, CouncilID: council, Start: start, Expiry: expiry, RecordedAt: recorded})
			s.stats.LicencePeriods++
			recorded = at
			start, expiry = nextStart, nextStart.AddYears(term()).AddDays(-1)
			continue
		}
		ackID, ackAt := s.awareness(id, council, at, 93)
		if ackID == 0 {
			// Not acknowledged: no renewal could be sent.
			break
		}
		ackedBefore = true
		submitted := ackAt.Add(time.Duration(60+s.rng.IntN(600)) * time.Second)
		decided := s.clock(londonDate(submitted, s.london).AddDays(2+s.rng.IntN(20)), false)
		ren := s.nextRen
		s.nextRen++
		s.stats.Renewals++
		ref := fmt.Sprintf("SY-%08X", ren)
		channel := []string{"online", "paper"}[s.pick(85, 15)]
		if decided.After(s.opt.Now) || submitted.After(s.opt.Now) {
			status := []domain.RenewalStatus{domain.StatusSubmitted, domain.StatusInReview, domain.StatusMoreInfo}[s.pick(50, 40, 10)]
			s.renewals = append(s.renewals, store.BulkRenewal{ID: ren, Reference: ref, DriverID: id, CouncilID: council, Status: status, AnswersJSON: "{}",
				AckEvidenceID: ackID, CreatedAt: at, UpdatedAt: submitted, Submitted: submitted, Channel: channel})
			break
		}
		if s.rng.IntN(100) < 3 {
			s.renewals = append(s.renewals, store.BulkRenewal{ID: ren, Reference: ref, DriverID: id, CouncilID: council, Status: domain.StatusRefused, AnswersJSON: "{}",
				AckEvidenceID: ackID, CreatedAt: at, UpdatedAt: decided, Submitted: submitted, Channel: channel, Decided: decided, DecisionReason: "Unsatisfactory DBS check"})
			break
		}
		s.renewals = append(s.renewals, store.BulkRenewal{ID: ren, Reference: ref, DriverID: id, CouncilID: council, Status: domain.StatusApproved, AnswersJSON: "{}",
			AckEvidenceID: ackID, CreatedAt: at, UpdatedAt: decided, Submitted: submitted, Channel: channel, Decided: decided})
		s.periods = append(s.periods, store.BulkLicencePeriod{DriverID: id, CouncilID: council, Start: start, Expiry: expiry, RecordedAt: recorded})
		s.stats.LicencePeriods++
		recorded = decided
		start, expiry = nextStart, nextStart.AddYears(term()).AddDays(-1)
	}
	// A version needing re-acknowledgement published while licensed: some drivers are sent it by
	// post or email, and some of them acknowledge it.
	if ackedBefore {
		for i := 1; i < len(s.versions); i++ {
			v := s.versions[i]
			if !v.RequiresReack || s.rng.IntN(100) >= 85 {
				continue
			}
			d := londonDate(v.PublishedAt, s.london).AddDays(s.rng.IntN(90))
			if d.After(today) || d.After(expiry) || d.Before(start) {
				continue
			}
			s.awareness(id, council, s.clock(d, true), 75)
		}
	}
	// A copy handed over at a compliance check or an enforcement operation, now and then.
	if ackedBefore && s.rng.IntN(100) < 45 {
		d := start.AddDays(s.rng.IntN(int(DaysBetween(start, expiry)) + 1))
		if !d.After(today) && !d.Before(histStart) {
			s.awareness(id, council, s.clock(d, false), 50)
		}
	}
	status := []string{domain.DriverActive, domain.DriverSuspended, domain.DriverRevoked}[s.pick(96, 3, 1)]
	// A suspension or revocation is dated: some day of the current licence up to today.
	var statusFrom domain.Date
	if status != domain.DriverActive {
		from := start
		if n := int(DaysBetween(start, today)); n > 0 {
			from = start.AddDays(s.rng.IntN(n + 1))
		}
		statusFrom = from
	}
	g, f := s.syntheticName()
	dob := domain.Date{Year: 1950 + s.rng.IntN(50), Month: time.Month(1 + s.rng.IntN(12)), Day: 1 + s.rng.IntN(28)}
	// The driver row holds the current licence and status; the triggers record them in the
	// licence and status histories.
	s.drivers = append(s.drivers, store.BulkDriver{ID: id, CouncilID: council, LicenceNumber: fmt.Sprintf("SYN%07d", id), GivenNames: g,
		FamilyName: f, DateOfBirth: dob, Email: fmt.Sprintf("driver%d@example.org", id), LicenceStart: start, LicenceExpiry: expiry,
		Status: status, StatusFrom: statusFrom, CreatedAt: firstRecorded, UpdatedAt: recorded})
	s.stats.LicencePeriods++
}

// DaysBetween is the number of days from a to b.
func DaysBetween(a, b domain.Date) int32 { return store.DayNumber(b) - store.DayNumber(a) }
