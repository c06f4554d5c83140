package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

func TestParseReportPeriod(t *testing.T) {
	t.Parallel()
	today := domain.Date{Year: 2026, Month: 11, Day: 26}
	d := func(y, m, day int) domain.Date { return domain.Date{Year: y, Month: domainMonth(m), Day: day} }
	for _, tc := range []struct {
		period, from, to string
		want             report.Period
		grouping         report.Grouping
		title, field     string
	}{
		{"2026-10", "", "", report.Period{From: d(2026, 10, 1), To: d(2026, 11, 1)}, report.Whole, "October 2026", ""},
		{"2026-q4", "", "", report.Period{From: d(2026, 10, 1), To: d(2027, 1, 1)}, report.ByMonth, "2026 Q4", ""},
		{"2025", "", "", report.Period{From: d(2025, 1, 1), To: d(2026, 1, 1)}, report.ByMonth, "2025", ""},
		{"", "2026-01-15", "2026-03-31", report.Period{From: d(2026, 1, 15), To: d(2026, 4, 1)}, report.ByMonth, "15 January 2026 to 31 March 2026", ""},
		{"", "2026-02-01", "2026-02-01", report.Period{From: d(2026, 2, 1), To: d(2026, 2, 2)}, report.ByMonth, "1 February 2026 to 1 February 2026", ""},
		{"", "", "", report.Period{From: d(2025, 12, 1), To: d(2026, 12, 1)}, report.ByMonth, "The 12 months to November 2026", ""},
		{"2026-00", "", "", report.Period{}, "", "", "period"},
		{"2026-Q5", "", "", report.Period{}, "", "", "period"},
		{"1999", "", "", report.Period{}, "", "", "period"},
		{"2028", "", "", report.Period{}, "", "", "period"},
		{"2026", "2026-01-01", "", report.Period{}, "", "", "period"},
		{"", "2026-13-01", "2026-12-01", report.Period{}, "", "", "from"},
		{"", "2026-01-01", "", report.Period{}, "", "", "to"},
		{"", "2026-03-01", "2026-02-28", report.Period{}, "", "", "to"},
		{"", "2010-01-01", "2020-01-01", report.Period{}, "", "", "to"},
	} {
		t.Run(tc.period+"|"+tc.from+"|"+tc.to, func(t *testing.T) {
			got, g, title, err := service.ParseReportPeriod(tc.period, tc.from, tc.to, today)
			if tc.field != "" {
				var de *domain.Error
				if !asDomain(err, &de) || de.Code != domain.CodeInvalid || de.Fields[tc.field] == "" {
					t.Fatalf("got %v, want an invalid %s", err, tc.field)
				}
				return
			}
			if err != nil || got != tc.want || g != tc.grouping || title != tc.title {
				t.Errorf("got %+v %s %q %v, want %+v %s %q", got, g, title, err, tc.want, tc.grouping, tc.title)
			}
		})
	}
}

func domainMonth(m int) time.Month { return time.Month(m) }

func asDomain(err error, target **domain.Error) bool { return errors.As(err, target) }
