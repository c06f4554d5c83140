package service

import (
	"context"
	"html/template"
	"sync"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// The councils, their fees and the leaflet versions change rarely and are read on nearly every
// page, so each instance keeps them in memory (reference). The database keeps a counter that
// every change to them moves in the same transaction (store.ReferenceVersion); a request reads
// it once, at its start (with the driver's session, or alone), and what is kept is used only if
// it was read at that counter or later. A change committed on any instance, or in the database
// by hand, is therefore seen by every request that starts after it, on every instance: nothing
// kept is ever older than the request that uses it.

// reference is one reading of the reference data.
type reference struct {
	version  int64 // the counter read before this data: the data is at least this new
	councils []domain.Council
	byID     map[int64]domain.Council
	bySlug   map[string]domain.Council
	fees     map[int64][]domain.Fee
	leaflets map[string][]domain.LeafletVersion // by audience, oldest first
}

// referenceCache holds the newest reading.
type referenceCache struct {
	mu   sync.Mutex // guards cur
	cur  *reference
	load sync.Mutex // one reload at a time
}

// refVersionKey carries, in a request's context, the counter read at the request's start.
type refVersionKey struct{}

// withReferenceVersion records in ctx the reference counter read at the start of a request.
func withReferenceVersion(ctx context.Context, v int64) context.Context {
	return context.WithValue(ctx, refVersionKey{}, v)
}

// referenceVersion is the counter this request works at: the one read at its start, or, for a
// call outside a request that read it, the counter now.
func (s *Service) referenceVersion(ctx context.Context) (int64, error) {
	if v, ok := ctx.Value(refVersionKey{}).(int64); ok {
		return v, nil
	}
	return s.store.ReferenceVersion(ctx)
}

// reference returns reference data at least as new as the counter this request works at,
// reading it again when what is kept is older.
func (s *Service) reference(ctx context.Context) (*reference, error) {
	v, err := s.referenceVersion(ctx)
	if err != nil {
		return nil, err
	}
	c := &s.refs
	c.mu.Lock()
	cur := c.cur
	c.mu.Unlock()
	if cur != nil && cur.version >= v {
		return cur, nil
	}
	c.load.Lock()
	defer c.load.Unlock()
	c.mu.Lock()
	cur = c.cur
	c.mu.Unlock()
	if cur != nil && cur.version >= v { // another request has just read it
		return cur, nil
	}
	// Read after the counter v: everything read is at least as new as v.
	raw, err := s.store.Reference(ctx)
	if err != nil {
		return nil, err
	}
	ref := &reference{version: v, councils: raw.Councils, fees: raw.Fees,
		byID: make(map[int64]domain.Council, len(raw.Councils)), bySlug: make(map[string]domain.Council, len(raw.Councils)),
		leaflets: map[string][]domain.LeafletVersion{}}
	for _, co := range raw.Councils {
		ref.byID[co.ID], ref.bySlug[co.Slug] = co, co
	}
	for _, l := range raw.Leaflets {
		ref.leaflets[l.Audience] = append(ref.leaflets[l.Audience], l)
	}
	c.mu.Lock()
	if c.cur == nil || c.cur.version < ref.version {
		c.cur = ref
	}
	c.mu.Unlock()
	return ref, nil
}

// councilByID is the council with this id, from what is kept; one not kept (there is none, or
// it was added since) is looked up in the database, which gives the usual not-found error.
func (s *Service) councilByID(ctx context.Context, id int64) (domain.Council, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return domain.Council{}, err
	}
	if c, ok := ref.byID[id]; ok {
		return c, nil
	}
	return s.store.CouncilByID(ctx, id)
}

// councilBySlug is councilByID by slug.
func (s *Service) councilBySlug(ctx context.Context, slug string) (domain.Council, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return domain.Council{}, err
	}
	if c, ok := ref.bySlug[slug]; ok {
		return c, nil
	}
	return s.store.CouncilBySlug(ctx, slug)
}

// councils lists the councils in name order.
func (s *Service) councils(ctx context.Context) ([]domain.Council, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return nil, err
	}
	return append([]domain.Council(nil), ref.councils...), nil
}

// councilFees is a council's fee history, newest first.
func (s *Service) councilFees(ctx context.Context, councilID int64) ([]domain.Fee, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return nil, err
	}
	return append([]domain.Fee(nil), ref.fees[councilID]...), nil
}

// leafletVersions lists an audience's leaflet versions, oldest first.
func (s *Service) leafletVersions(ctx context.Context, audience string) ([]domain.LeafletVersion, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return nil, err
	}
	return append([]domain.LeafletVersion(nil), ref.leaflets[audience]...), nil
}

// currentLeaflet is an audience's newest leaflet version, with the store's error when there is none.
func (s *Service) currentLeaflet(ctx context.Context, audience string) (domain.LeafletVersion, error) {
	vs, err := s.leafletVersions(ctx, audience)
	if err != nil {
		return domain.LeafletVersion{}, err
	}
	if len(vs) == 0 {
		return s.store.CurrentLeaflet(ctx, audience)
	}
	return vs[len(vs)-1], nil
}

// driverAwareness works out where a driver stands with the driver leaflet now: the versions
// from what is kept, the driver's evidence from the database.
func (s *Service) driverAwareness(ctx context.Context, driverID int64) (domain.Awareness, error) {
	versions, err := s.leafletVersions(ctx, domain.AudienceDriver)
	if err != nil {
		return domain.Awareness{}, err
	}
	evidence, err := s.store.DriverEvidence(ctx, driverID)
	if err != nil {
		return domain.Awareness{}, err
	}
	return domain.AssessAwareness(versions, evidence), nil
}

// LeafletHTML is a leaflet version's content as HTML, rendered once per content and kept.
func (s *Service) LeafletHTML(v domain.LeafletVersion) template.HTML {
	return s.leafletHTML.Render(v.ContentSHA256, v.Content)
}

// driverKey carries, in a request's context, the signed-in driver read with their session.
type driverKey struct{}

// SessionContext returns the live session for a cookie token, as Session does, and a context
// for the rest of the request that carries what was read with it: the reference data counter
// and, for a driver's session, the driver, so that the request's pages read neither again. The
// session is checked in full on every request (expiry, idle time, sign-out on any instance).
func (s *Service) SessionContext(ctx context.Context, token, kind string) (context.Context, domain.Session, error) {
	if kind != domain.SessionDriver {
		sess, err := s.Session(ctx, token)
		return ctx, sess, err
	}
	if token == "" {
		return ctx, domain.Session{}, domain.NewError(domain.CodeUnauthorised, "no_session", "Please sign in.")
	}
	read, err := s.store.DriverSession(ctx, tokenHash(token), s.now(), SessionIdleTimeout)
	if err != nil {
		return ctx, domain.Session{}, err
	}
	ctx = withReferenceVersion(ctx, read.ReferenceVersion)
	if read.Driver.ID == read.Session.SubjectID {
		ctx = context.WithValue(ctx, driverKey{}, read.Driver)
	}
	return ctx, read.Session, nil
}

// driverByID is the driver with this id: the one read with the request's session, or from the
// database.
func (s *Service) driverByID(ctx context.Context, id int64) (domain.Driver, error) {
	if d, ok := ctx.Value(driverKey{}).(domain.Driver); ok && d.ID == id {
		return d, nil
	}
	return s.store.DriverByID(ctx, id)
}
