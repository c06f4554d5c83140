package domain

import "database/sql"

// The filters and results below are what the store returns and the service hands on to the
// handlers: they live here so that web never needs the store's package (DESIGN §5).

// QueueFilter selects renewals for the officers' queue.
type QueueFilter struct {
	CouncilID int64  // 0: every council
	Status    string // "" for every sent status
	Query     string // name, licence number or reference
	Newest    bool   // sort by licence expiry, latest first (default: soonest first)
	Limit     int
	Offset    int
}

// QueueItem is one row of the queue.
type QueueItem struct {
	Renewal Renewal
	Driver  Driver
	Council string
}

// CaseData is everything the case page shows.
type CaseData struct {
	Renewal   Renewal
	Driver    Driver
	Council   Council
	Checks    []StatutoryCheck
	Events    []CaseEvent
	Evidence  []Evidence
	Versions  []LeafletVersion
	Awareness Awareness
	Renewals  []Renewal        // every renewal of this driver, newest first
	Documents []Document       // uploaded with this renewal, oldest first, replaced ones included
	StaffName map[int64]string // names of the staff who appear above
}

// ImportCounts are what an import would do, or did.
type ImportCounts struct {
	Rows      int `json:"rows"`
	Added     int `json:"added"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Missing   int `json:"missing"`
	NoEmail   int `json:"no_email"`
}

// CountsOf summarises a comparison of a file with the register.
func CountsOf(diff RegisterDiff, noEmail int) ImportCounts {
	return ImportCounts{Rows: len(diff.Add) + len(diff.Update) + len(diff.Unchanged), Added: len(diff.Add), Updated: len(diff.Update),
		Unchanged: len(diff.Unchanged), Missing: len(diff.Missing), NoEmail: noEmail}
}

// RegisterStats summarise a council's register.
type RegisterStats struct {
	Total, Active, Suspended, Revoked, NoEmail int
}

// OutboxState counts messages waiting, sent and given up, for operators and tests.
type OutboxState struct {
	Waiting, Sent, Failed int64
}

// Gauges are the business figures /metrics reports from the database.
type Gauges struct {
	RenewalsSubmitted int64 // renewals ever sent (any status after draft)
	Evidence          int64 // evidence records of every kind
	Outbox            OutboxState
	Pool              sql.DBStats
}

// EvidenceExportRow is one evidence record as the detail export shows it. The store's StreamEvidence
// reuses one value for every row: copy what you keep.
type EvidenceExportRow struct {
	ID            int64
	Kind          string
	CouncilSlug   string
	LicenceNumber string
	LeafletVer    string
	ContentSHA256 string
	Channel       string
	OccurredAt    string // UTC, RFC 3339 (e.g. 2026-11-26T10:00:00Z)
	RecordedAt    string
	ActorKind     string
	ActorID       int64
	VoidsID       sql.NullInt64
	Reason        string
}
