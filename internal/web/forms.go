package web

import (
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/go-playground/validator/v10"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// fieldError is one problem with one field; Field is the id of the input to link to.
type fieldError struct {
	Field   string
	Message string
}

// fieldErrors keeps problems in the order of the form, for the error summary, and by field,
// for the message beside each input. A nil *fieldErrors has no errors.
type fieldErrors struct {
	List    []fieldError
	byField map[string]string
}

func (f *fieldErrors) Add(field, message string) {
	if f.byField == nil {
		f.byField = map[string]string{}
	}
	if _, dup := f.byField[field]; dup {
		return
	}
	f.byField[field] = message
	f.List = append(f.List, fieldError{Field: field, Message: message})
}

// InPageOrder sorts the errors into the order the fields appear on the page (fields not named
// go last), so the error summary reads top to bottom like the form.
func (f *fieldErrors) InPageOrder(fields ...string) {
	rank := make(map[string]int, len(fields))
	for i, name := range fields {
		rank[name] = i + 1
	}
	pos := func(name string) int {
		if r, ok := rank[name]; ok {
			return r
		}
		if group, _, ok := strings.Cut(name, "-"); ok && rank[group] > 0 { // a date's box, e.g. medical-day
			return rank[group]
		}
		return len(fields) + 1
	}
	sort.SliceStable(f.List, func(i, j int) bool { return pos(f.List[i].Field) < pos(f.List[j].Field) })
}

// Get returns the message for a field, or "".
func (f *fieldErrors) Get(field string) string {
	if f == nil {
		return ""
	}
	return f.byField[field]
}

// Any reports whether there is at least one problem.
func (f *fieldErrors) Any() bool { return f != nil && len(f.List) > 0 }

// fromDomain copies a domain error's field messages, or its message against a fallback field.
func fromDomain(err error, fallbackField string) (*fieldErrors, bool) {
	var de *domain.Error
	if !errors.As(err, &de) || (de.Code != domain.CodeInvalid && de.Code != domain.CodeConflict) {
		return nil, false
	}
	fe := &fieldErrors{}
	if len(de.Fields) > 0 && fallbackField == "" {
		keys := make([]string, 0, len(de.Fields))
		for k := range de.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a stable order for the error summary
		for _, k := range keys {
			fe.Add(k, de.Fields[k])
		}
	} else {
		if fallbackField == "" {
			fallbackField = "main-content" // no single field is at fault: link to the page itself
		}
		fe.Add(fallbackField, de.Message)
	}
	return fe, true
}

// newValidator registers the service's own formats, each backed by a domain normaliser.
func newValidator() *validator.Validate {
	v := validator.New(validator.WithRequiredStructEnabled())
	// Report fields by their form name, which is also the id of the input.
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		return strings.SplitN(f.Tag.Get("form"), ",", 2)[0]
	})
	formats := map[string]func(string) (string, error){
		"dvla_licence": domain.NormaliseDVLALicenceNumber,
		"dvla_check":   domain.NormaliseDVLACheckCode,
		"dbs_cert":     domain.NormaliseDBSCertificateNumber,
		"tax_check":    domain.NormaliseTaxCheckCode,
		"share_code":   domain.NormaliseShareCode,
		"uk_postcode":  domain.NormaliseUKPostcode,
		"uk_phone":     domain.NormaliseUKPhone,
		"email_addr":   domain.NormaliseEmail,
		"person_name":  domain.NormalisePersonName,
	}
	for tag, normalise := range formats {
		normalise := normalise
		_ = v.RegisterValidation(tag, func(fl validator.FieldLevel) bool {
			_, err := normalise(fl.Field().String())
			return err == nil
		})
	}
	return v
}

// check validates a form struct and turns validator's errors into messages from messages,
// keyed "field.tag" (or "field" for any tag of that field).
func (s *Server) check(form any, messages map[string]string) *fieldErrors {
	fe := &fieldErrors{}
	err := s.validate.Struct(form)
	var verrs validator.ValidationErrors
	if errors.As(err, &verrs) {
		for _, e := range verrs {
			msg, ok := messages[e.Field()+"."+e.Tag()]
			if !ok {
				msg, ok = messages[e.Field()]
			}
			if !ok {
				msg = "Check this answer"
			}
			fe.Add(e.Field(), msg)
		}
	} else if err != nil {
		fe.Add("", "Check your answers")
	}
	return fe
}

// dateField is a date typed into three boxes.
type dateField struct {
	Day, Month, Year string
}

// parse checks a date field and records its error against the box to focus.
func (d dateField) parse(fe *fieldErrors, id, label string) domain.Date {
	date, err := domain.ParseDate(d.Day, d.Month, d.Year)
	if err != nil {
		var derr *domain.DateError
		if errors.As(err, &derr) {
			fe.Add(id, derr.Message(label))
			if derr.Field != "" {
				fe.focus(id, id+"-"+derr.Field)
			}
		} else {
			fe.Add(id, label+" must be a real date")
		}
	}
	return date
}

// focus points the error summary link for field at a more precise input (a date's box).
func (f *fieldErrors) focus(field, target string) {
	for i := range f.List {
		if f.List[i].Field == field {
			f.List[i].Field = target
		}
	}
	f.byField[target] = f.byField[field]
}

func dateFieldOf(d domain.Date) dateField {
	if d.IsZero() {
		return dateField{}
	}
	return dateField{Day: strconv.Itoa(d.Day), Month: strconv.Itoa(int(d.Month)), Year: strconv.Itoa(d.Year)}
}

// refusalStatus is the status of a page re-rendered after the service refused: 409 when the
// state does not allow it yet, 422 when the input was wrong.
func refusalStatus(err error) int {
	if domain.ErrorCode(err) == domain.CodeConflict {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}
