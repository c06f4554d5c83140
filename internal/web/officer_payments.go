package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// officerPaymentRoutes: fees taken at the counter or by phone, waivers, refunds, and the
// payments export for finance.
func (s *Server) officerPaymentRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(post, "/staff/renewals/:id/payments", accessOfficer, s.recordOfficePayment)
	s.route(post, "/staff/renewals/:id/waive", accessOfficer, s.waiveFee)
	s.route(post, "/staff/renewals/:id/refund", accessOfficer, s.refund)
	s.route(get, "/staff/payments", accessStaffRead, s.paymentsPage)
	s.route(get, "/staff/payments.csv", accessStaffRead, s.paymentsCSV)
}

// feeView is the fee section of the case page.
type feeView struct {
	Settled        bool
	InProgress     bool
	RefundToDecide bool
	Rows           []paymentRowView
	Refundable     []refundOption
}

type paymentRowView struct{ At, What, Amount, Status, Details string }

type refundOption struct {
	ID    int64
	Label string
}

var methodText = map[domain.PaymentMethod]string{domain.PaymentOnline: "Paid online", domain.PaymentCounter: "Paid at the counter",
	domain.PaymentPhone: "Paid by phone", domain.PaymentWaived: "Fee waived"}

var paymentStatusText = map[domain.PaymentStatus]string{
	domain.PaymentCreating: "Being set up", domain.PaymentCreated: "Waiting for the driver", domain.PaymentStarted: "Driver paying",
	domain.PaymentSubmitted: "Driver paying", domain.PaymentCapturable: "Driver paying", domain.PaymentSuccess: "Taken",
	domain.PaymentFailed: "Not taken", domain.PaymentCancelled: "Cancelled by the driver", domain.PaymentError: "Not taken (error)",
}

func (s *Server) feeView(f domain.FeeStanding, status domain.RenewalStatus) feeView {
	v := feeView{Settled: f.Settled(), RefundToDecide: f.RefundToDecide(status)}
	_, v.InProgress = f.InProgress()
	for _, p := range f.Payments {
		row := paymentRowView{At: s.shortTime(p.CreatedAt), What: methodText[p.Method], Amount: domain.FormatPence(p.Amount), Status: paymentStatusText[p.Status]}
		switch p.Method {
		case domain.PaymentOnline:
			row.Details = "GOV.UK Pay " + p.ProviderID
			if p.ProviderCode != "" {
				row.Details += " (" + p.ProviderCode + ")"
			}
		case domain.PaymentWaived:
			row.Amount, row.Details = "–", p.Reason
		default:
			row.Details = "Receipt " + p.Receipt
		}
		v.Rows = append(v.Rows, row)
		if left := f.Refundable(p.ID); left > 0 {
			v.Refundable = append(v.Refundable, refundOption{ID: p.ID, Label: fmt.Sprintf("%s, %s (%s left to refund)", methodText[p.Method], s.shortTime(p.CreatedAt), domain.FormatPence(left))})
		}
	}
	for _, r := range f.Refunds {
		v.Rows = append(v.Rows, paymentRowView{At: s.shortTime(r.RecordedAt), What: "Refund", Amount: "-" + domain.FormatPence(r.Amount), Status: "Refunded", Details: r.Reason})
	}
	return v
}

func (s *Server) recordOfficePayment(c echo.Context) error {
	form := caseForm{PayMethod: c.FormValue("method"), PayAmount: trimmed(c, "amount"), PayReceipt: trimmed(c, "receipt")}
	return s.caseAction(c, form, "payment", func(id int64) error {
		_, err := s.svc.RecordOfficePayment(c.Request().Context(), actor(c), id, service.OfficePaymentInput{
			Method: domain.PaymentMethod(form.PayMethod), Amount: form.PayAmount, Receipt: form.PayReceipt})
		return err
	})
}

func (s *Server) waiveFee(c echo.Context) error {
	form := caseForm{WaiveReason: trimmed(c, "waive_reason")}
	return s.caseAction(c, form, "waived", func(id int64) error {
		_, err := s.svc.RecordOfficePayment(c.Request().Context(), actor(c), id, service.OfficePaymentInput{Method: domain.PaymentWaived, Reason: form.WaiveReason})
		return err
	})
}

func (s *Server) refund(c echo.Context) error {
	form := caseForm{RefundAmount: trimmed(c, "refund_amount"), RefundReason: trimmed(c, "refund_reason")}
	pid, _ := strconv.ParseInt(c.FormValue("payment_id"), 10, 64)
	return s.caseAction(c, form, "refunded", func(id int64) error {
		_, err := s.svc.RecordRefund(c.Request().Context(), actor(c), id, service.RefundInput{PaymentID: pid, Amount: form.RefundAmount, Reason: form.RefundReason})
		return err
	})
}

type paymentsPageView struct {
	Councils    []domain.Council
	Council     string
	From, To    dateField
	ShowCouncil bool
	Errors      *fieldErrors
}

// paymentsPage is where finance choose a period and download the payments export.
func (s *Server) paymentsPage(c echo.Context) error {
	a := actor(c)
	councils, err := s.svc.Councils(c.Request().Context())
	if err != nil {
		return err
	}
	today := s.svc.Today()
	first := domain.Date{Year: today.Year, Month: today.Month, Day: 1}
	v := paymentsPageView{Councils: councils, From: dateFieldOf(first), To: dateFieldOf(today), ShowCouncil: a.CouncilID == 0}
	return s.render(c, http.StatusOK, "payments", v)
}

func (s *Server) paymentsCSV(c echo.Context) error {
	a := actor(c)
	slug := c.QueryParam("council")
	if a.CouncilID != 0 {
		if own, err := s.svc.CouncilByID(c.Request().Context(), a.CouncilID); err == nil {
			slug = own.Slug
		}
	}
	fe := &fieldErrors{}
	from := dateField{Day: c.QueryParam("from-day"), Month: c.QueryParam("from-month"), Year: c.QueryParam("from-year")}.parse(fe, "from", "The start date")
	to := dateField{Day: c.QueryParam("to-day"), Month: c.QueryParam("to-month"), Year: c.QueryParam("to-year")}.parse(fe, "to", "The end date")
	if fe.Any() {
		councils, err := s.svc.Councils(c.Request().Context())
		if err != nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, "payments", paymentsPageView{Councils: councils, Council: slug,
			From:        dateField{Day: c.QueryParam("from-day"), Month: c.QueryParam("from-month"), Year: c.QueryParam("from-year")},
			To:          dateField{Day: c.QueryParam("to-day"), Month: c.QueryParam("to-month"), Year: c.QueryParam("to-year")},
			ShowCouncil: a.CouncilID == 0, Errors: fe})
	}
	var buf bytes.Buffer
	if err := s.svc.WritePaymentsCSV(c.Request().Context(), a, slug, from, to, &buf); err != nil {
		return err
	}
	name := fmt.Sprintf("payments-%s-%s-to-%s.csv", slug, from.String(), to.String())
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
