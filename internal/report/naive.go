package report

import (
	"context"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Naive computes the same report as Coverage the obvious way, straight from the raw tables with
// one SQL query per figure per row, exactly as DESIGN §4 reads. It is the reference the
// differential test and the benchmarks hold Coverage to; it is slow on purpose of being simple.
//
// Dates: a record's day is its occurred_at (UTC) in Europe/London, so "dated in [from, to)" is
// "occurred_at from London midnight at the start of from to London midnight at the start of to".
// Stored times are UTC in one text form, which sorts in time order.
// Licences: a driver is licensed on day D when their status is active now (status history is not
// kept, so the current status stands for every day) and a recorded licence period covers D.
func Naive(ctx context.Context, st *store.Store, q Query) (Report, error) {
	periods, labels, err := Split(q.Period, q.Grouping)
	if err != nil {
		return Report{}, err
	}
	councils, err := reportCouncils(ctx, st, q.CouncilIDs)
	if err != nil {
		return Report{}, err
	}
	col := map[int64]int{}
	for i, c := range councils {
		col[c.ID] = i
	}
	london, err := time.LoadLocation(store.ReportZone)
	if err != nil {
		return Report{}, err
	}
	midnight := func(d domain.Date) time.Time {
		return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, london).UTC()
	}
	figs := make([][]Figures, len(periods))
	for i, p := range periods {
		figs[i] = make([]Figures, len(councils))
		for j := range figs[i] {
			figs[i][j] = newFigures()
		}
		from, end, last := midnight(p.From), midnight(p.To), p.LastDay().String()
		at := func(council int64) *Figures {
			if j, ok := col[council]; ok {
				return &figs[i][j]
			}
			return nil
		}

		// Licensed, aware and outstanding drivers on the last day.
		err := st.ReadQuery(ctx, `
SELECT d.council_id,
       COUNT(*),
       SUM(CASE WHEN EXISTS (
             SELECT 1 FROM evidence a JOIN leaflets v ON v.id = a.leaflet_id AND v.audience = 'driver'
             WHERE a.driver_id = d.id AND a.kind = 'acknowledgement' AND a.occurred_at < @end
               AND NOT EXISTS (SELECT 1 FROM evidence x WHERE x.voids_id = a.id)
               AND NOT EXISTS (SELECT 1 FROM leaflets w WHERE w.audience = 'driver' AND w.id > v.id
                               AND w.requires_reack AND w.published_at < @end))
           THEN 1 ELSE 0 END),
       SUM(CASE WHEN NOT EXISTS (
             SELECT 1 FROM evidence a JOIN leaflets v ON v.id = a.leaflet_id AND v.audience = 'driver'
             WHERE a.driver_id = d.id AND a.kind = 'acknowledgement' AND a.occurred_at < @end
               AND NOT EXISTS (SELECT 1 FROM evidence x WHERE x.voids_id = a.id)
               AND NOT EXISTS (SELECT 1 FROM leaflets w WHERE w.audience = 'driver' AND w.id > v.id
                               AND w.requires_reack AND w.published_at < @end))
           AND EXISTS (
             SELECT 1 FROM evidence i JOIN leaflets v ON v.id = i.leaflet_id AND v.audience = 'driver'
             WHERE i.driver_id = d.id AND i.kind = 'issue' AND i.occurred_at < @end
               AND NOT EXISTS (SELECT 1 FROM evidence x WHERE x.voids_id = i.id)
               AND NOT EXISTS (SELECT 1 FROM leaflets w WHERE w.audience = 'driver' AND w.id > v.id
                               AND w.requires_reack AND w.published_at < @end))
           THEN 1 ELSE 0 END)
FROM drivers d
WHERE d.status = 'active'
  AND EXISTS (SELECT 1 FROM licence_periods lp WHERE lp.driver_id = d.id
              AND lp.licence_start <= @last AND lp.licence_expiry >= @last)
GROUP BY d.council_id`, []any{map[string]any{"end": end, "last": last}}, func(scan func(...any) error) error {
			var council int64
			var licensed, aware, outstanding int
			if err := scan(&council, &licensed, &aware, &outstanding); err != nil {
				return err
			}
			if f := at(council); f != nil {
				f.LicensedDrivers, f.DriversAware, f.Outstanding = licensed, aware, outstanding
			}
			return nil
		})
		if err != nil {
			return Report{}, err
		}

		// Leaflets issued and acknowledged in the period, by channel and version.
		err = st.ReadQuery(ctx, `
SELECT e.council_id, e.kind, e.channel, v.version, COUNT(*)
FROM evidence e JOIN leaflets v ON v.id = e.leaflet_id AND v.audience = 'driver'
WHERE e.kind IN ('issue', 'acknowledgement') AND e.occurred_at >= @from AND e.occurred_at < @end
  AND NOT EXISTS (SELECT 1 FROM evidence x WHERE x.voids_id = e.id)
GROUP BY e.council_id, e.kind, e.channel, v.version`, []any{map[string]any{"from": from, "end": end}}, func(scan func(...any) error) error {
			var council int64
			var kind, channel, version string
			var n int
			if err := scan(&council, &kind, &channel, &version, &n); err != nil {
				return err
			}
			if f := at(council); f != nil {
				f.addEvidence(kind, channel, version, n)
			}
			return nil
		})
		if err != nil {
			return Report{}, err
		}

		// Renewals submitted, and decided, in the period.
		err = st.ReadQuery(ctx, `
SELECT council_id,
       SUM(CASE WHEN submitted_at >= @from AND submitted_at < @end THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'approved' AND decided_at >= @from AND decided_at < @end THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'refused' AND decided_at >= @from AND decided_at < @end THEN 1 ELSE 0 END)
FROM renewals
GROUP BY council_id`, []any{map[string]any{"from": from, "end": end}}, func(scan func(...any) error) error {
			var council int64
			var submitted, approved, refused int
			if err := scan(&council, &submitted, &approved, &refused); err != nil {
				return err
			}
			if f := at(council); f != nil {
				f.RenewalsSubmitted, f.RenewalsApproved, f.RenewalsRefused = submitted, approved, refused
			}
			return nil
		})
		if err != nil {
			return Report{}, err
		}
	}
	return assemble(q, periods, labels, councils, figs), nil
}
