package report

import (
	"context"
	"slices"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Naive computes the same report as Coverage the obvious way: it reads every driver's history,
// every evidence record and every renewal through the store's readers (no summaries), and for
// each row asks the rules of domain/coverage.go where each driver stands on the row's end
// (CoverageRules.StateOn, one day at a time) and which records fall on the row's days. It is the
// reference the differential test and the benchmarks hold Coverage to, which instead sums
// per-day changes (CoverageRules.StateChanges) kept in the store's summaries by day and month.
func Naive(ctx context.Context, st *store.Store, q Query) (Report, error) {
	p, err := newPlan(ctx, st, q)
	if err != nil {
		return Report{}, err
	}
	col := map[int64]int{}
	for i, c := range p.councils {
		col[c.ID] = i
	}
	var drivers []store.CoverageDriver
	var records []store.CoverageRecord
	var renewals []store.CoverageRenewal
	in, err := st.CoverageHistory(ctx, func(d *store.CoverageDriver) error {
		c := *d
		c.History.Licences = slices.Clone(d.History.Licences)
		c.History.Statuses = slices.Clone(d.History.Statuses)
		c.Records = slices.Clone(d.Records)
		drivers = append(drivers, c)
		return nil
	}, func(r *store.CoverageRecord) error {
		records = append(records, *r)
		return nil
	}, func(r store.CoverageRenewal) error {
		renewals = append(renewals, r)
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	labelOf, err := versionLabels(ctx, st)
	if err != nil {
		return Report{}, err
	}
	within := func(d domain.Date, per Period) bool { return !d.IsZero() && !d.Before(per.From) && d.Before(per.To) }
	figs := p.blank()
	for i, per := range p.periods {
		end := per.LastDay()
		for _, d := range drivers {
			j, ok := col[d.CouncilID]
			if !ok {
				continue
			}
			s := in.Rules(d.CouncilID).StateOn(d.History, d.Records, end)
			f := &figs[i][j]
			f.LicensedDrivers += one(s.Licensed)
			f.DriversAware += one(s.Aware)
			f.DriversEverAware += one(s.EverAware)
			f.Outstanding += one(s.Outstanding)
		}
		for _, r := range records {
			if j, ok := col[r.CouncilID]; ok && !r.Voided && within(r.Day, per) {
				figs[i][j].addEvidence(r.Kind, r.Channel, labelOf[r.LeafletID], 1)
			}
		}
		for _, r := range renewals {
			j, ok := col[r.CouncilID]
			if !ok {
				continue
			}
			f := &figs[i][j]
			if within(r.Submitted, per) {
				f.RenewalsSubmitted++
			}
			if within(r.Decided, per) {
				switch r.Status {
				case domain.StatusApproved:
					f.RenewalsApproved++
				case domain.StatusRefused:
					f.RenewalsRefused++
				}
			}
		}
	}
	return p.assemble(figs), nil
}

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}
