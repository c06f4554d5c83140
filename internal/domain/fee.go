package domain

import (
	"strconv"
	"strings"
	"time"
)

// Fee is what a council charges for a driver licence renewal of one term, from a date. Fees are
// history: a new fee is a new row from a later (or the same) date, never a change to an old one,
// so the fee that applied on any day can always be told.
type Fee struct {
	ID          int64
	CouncilID   int64
	TermYears   int
	AmountPence int64
	AppliesFrom Date
	SetAt       time.Time
	SetBy       string
}

// Display is the fee as shown to people, e.g. "£250.00".
func (f Fee) Display() string { return FormatPence(f.AmountPence) }

// FormatPence shows an amount of money in pounds with pence and thousands separators, e.g.
// 25000 → "£250.00", 123456 → "£1,234.56", -500 → "-£5.00".
func FormatPence(p int64) string {
	sign := ""
	u := uint64(p)
	if p < 0 {
		sign = "-"
		u = uint64(-(p + 1)) + 1 // safe for the smallest int64
	}
	pounds := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	for i, c := range pounds {
		if i > 0 && (len(pounds)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	pence := u % 100
	return sign + "£" + b.String() + "." + string(rune('0'+pence/10)) + string(rune('0'+pence%10))
}

// MaxFeePence is the largest fee an administrator may set (£10,000): anything above is a typing
// mistake, not a licence fee.
const MaxFeePence = 10_000_00

// feeAmountHint is the example every amount error ends with.
const feeAmountHint = "in pounds, like 250 or 250.00"

// ParsePounds reads an amount of money typed by an administrator: "250", "250.5", "250.50",
// "£250.50" or "£1,250.00" (spaces around are ignored). It returns pence. Errors are *Error with
// code invalid and a message that says what is wrong, on the field "amount".
func ParsePounds(s string) (int64, error) {
	bad := func(msg string) error {
		return &Error{Code: CodeInvalid, Reason: "amount", Message: msg, Fields: map[string]string{"amount": msg}}
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, bad("Enter the fee " + feeAmountHint)
	}
	if len(s) > 32 {
		return 0, bad("Enter the fee " + feeAmountHint + " (the amount is too long)")
	}
	if strings.HasPrefix(s, "-") {
		return 0, bad("The fee cannot be negative: enter it " + feeAmountHint)
	}
	s = strings.TrimSpace(strings.TrimPrefix(s, "£"))
	whole, frac, hasPoint := strings.Cut(s, ".")
	if hasPoint && frac == "" {
		return 0, bad("Enter the pence after the point, or leave the point out: " + feeAmountHint)
	}
	if len(frac) > 2 {
		return 0, bad("Enter the fee with at most 2 digits after the point, " + feeAmountHint)
	}
	if whole == "" {
		whole = "0"
	}
	if strings.Contains(whole, ",") {
		// Thousands separators must be in the right places: "1,250" yes, "12,50" no.
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, bad("Enter the fee " + feeAmountHint + " (a comma may only separate thousands)")
			}
		}
		whole = strings.Join(groups, "")
	}
	if !allASCIIDigits(whole) || (frac != "" && !allASCIIDigits(frac)) {
		return 0, bad("Enter the fee using numbers only, " + feeAmountHint)
	}
	if len(whole) > 7 {
		return 0, bad("The fee must be " + FormatPence(MaxFeePence) + " or less")
	}
	pounds, _ := strconv.ParseInt(whole, 10, 64)
	for len(frac) < 2 {
		frac += "0"
	}
	pence, _ := strconv.ParseInt(frac, 10, 64)
	total := pounds*100 + pence
	switch {
	case total == 0:
		return 0, bad("The fee must be more than £0 (record a waived fee on the case instead)")
	case total > MaxFeePence:
		return 0, bad("The fee must be " + FormatPence(MaxFeePence) + " or less")
	}
	return total, nil
}

// ValidTerm reports whether years is a licence term the service offers.
func ValidTerm(years int) bool {
	for _, t := range LicenceTerms {
		if t == years {
			return true
		}
	}
	return false
}

// CurrentFee picks, from a council's fee history, the fee for a term on a day: the row with
// the latest applies-from date on or before the day, and of those the one set last. It reports
// false when none applies yet.
func CurrentFee(history []Fee, termYears int, on Date) (Fee, bool) {
	var best Fee
	found := false
	for _, f := range history {
		if f.TermYears != termYears || f.AppliesFrom.After(on) {
			continue
		}
		if !found || f.AppliesFrom.After(best.AppliesFrom) ||
			(f.AppliesFrom == best.AppliesFrom && (f.SetAt.After(best.SetAt) || (f.SetAt.Equal(best.SetAt) && f.ID > best.ID))) {
			best, found = f, true
		}
	}
	return best, found
}
