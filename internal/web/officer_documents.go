package web

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// caseDocumentView is one row of the case page's documents table.
type caseDocumentView struct {
	ID         int64
	Kind       string
	Label      string
	Type       string
	Size       string
	Pixels     string
	Uploaded   string
	Status     string
	StatusTag  string
	Reviewer   string
	Reason     string
	Scan       string
	Current    bool // the one the driver's answers point at
	Required   bool
	Reviewable bool
}

var documentStatusText = map[domain.DocumentStatus]struct{ Text, Tag string }{
	domain.DocumentUploaded: {"Waiting for review", "yellow"},
	domain.DocumentAccepted: {"Accepted", "green"},
	domain.DocumentRejected: {"Rejected", "red"},
	domain.DocumentReplaced: {"Replaced by the driver", "grey"},
}

var contentTypeText = map[string]string{"image/jpeg": "JPEG image", "image/png": "PNG image", "application/pdf": "PDF"}

// caseDocuments lists the renewal's documents, current ones first in the order of
// domain.DocumentKinds, then the replaced ones, newest first.
func (s *Server) caseDocuments(cd domain.CaseData) []caseDocumentView {
	r := cd.Renewal
	required := map[domain.DocumentKind]bool{}
	if r.Channel != "paper" {
		for _, k := range r.Answers.RequiredDocuments() {
			required[k] = true
		}
	}
	view := func(d domain.Document) caseDocumentView {
		st := documentStatusText[d.Status]
		v := caseDocumentView{ID: d.ID, Kind: string(d.Kind), Label: d.Kind.Label(), Type: contentTypeText[d.ContentType], Size: humanSize(d.SizeBytes),
			Uploaded: s.shortTime(d.UploadedAt), Status: st.Text, StatusTag: st.Tag, Reason: d.ReviewReason, Scan: d.ScanResult,
			Current: r.Answers.Documents.ID(d.Kind) == d.ID, Required: required[d.Kind]}
		if d.Width > 0 {
			v.Pixels = fmt.Sprintf("%d × %d pixels", d.Width, d.Height)
		}
		if d.ReviewedBy != 0 {
			v.Reviewer = cd.StaffName[d.ReviewedBy]
		}
		v.Reviewable = r.Decidable() && d.Status != domain.DocumentReplaced
		return v
	}
	var out []caseDocumentView
	for _, k := range domain.DocumentKinds {
		found := false
		for _, d := range cd.Documents {
			if d.Kind == k && r.Answers.Documents.ID(k) == d.ID {
				out = append(out, view(d))
				found = true
			}
		}
		if !found && required[k] {
			out = append(out, caseDocumentView{Kind: string(k), Label: k.Label(), Status: "Not uploaded", StatusTag: "red", Current: true, Required: true})
		}
	}
	for i := len(cd.Documents) - 1; i >= 0; i-- {
		if d := cd.Documents[i]; r.Answers.Documents.ID(d.Kind) != d.ID {
			out = append(out, view(d))
		}
	}
	return out
}

// reviewDocument accepts or rejects a document. Another council's document is not found, as
// a missing one is; a refusal re-renders the case page with the error beside the document.
func (s *Server) reviewDocument(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	d, err := s.svc.StaffDocument(ctx, actor(c), id)
	if err != nil {
		return err
	}
	decision, reason := c.FormValue("decision"), trimmed(c, "reason")
	if decision != "accept" && decision != "reject" {
		err = fieldsError(fieldErrorsOf("document-"+string(d.Kind)+"-reason", "Choose whether to accept or reject the "+d.Kind.Noun()))
	} else {
		_, err = s.svc.ReviewDocument(ctx, actor(c), id, decision == "accept", reason)
	}
	if err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		v, verr := s.caseData(c, d.RenewalID)
		if verr != nil {
			return verr
		}
		v.Errors = fe
		v.Form.Reason = ""
		v.ReviewReason = map[int64]string{d.ID: reason}
		return s.render(c, refusalStatus(err), "case", v)
	}
	return redirect(c, fmt.Sprintf("/staff/renewals/%d?done=document-%sed#documents", d.RenewalID, decision))
}

func fieldErrorsOf(field, msg string) *fieldErrors {
	fe := &fieldErrors{}
	fe.Add(field, msg)
	return fe
}
