// Package event holds Crest's core event types and their binary encoding.
// It does no I/O.
package event

// NoSession is the session_id of an event outside any session (spec §4).
const NoSession int64 = -1

// NoEventID marks an event that carried no event_id.
const NoEventID int64 = -1

// Event is one accepted event as it travels from ingest through the WAL
// and the pipeline into storage. Times are UTC milliseconds since the epoch.
//
// Property maps (EventProperties, UserProperties, Groups, GroupProperties,
// Plan, IngestionMetadata) are kept as compact JSON object text, exactly as
// validated by ingest; nil means absent. The pipeline replaces
// UserProperties with the user's snapshot as of this event before the
// event is stored (spec §2), keeping the operations sent by the client in
// UserPropertyOps.
type Event struct {
	// ProjectID is not encoded per event: DecodeBatch fills it from the batch.
	ProjectID int64

	EventType string
	UserID    string
	DeviceID  string

	// Time is event_time: ClientEventTime corrected for clock skew (spec §1.10).
	Time               int64
	ClientEventTime    int64
	ClientUploadTime   int64 // 0 when the client sent none
	ServerReceivedTime int64
	ServerUploadTime   int64

	SessionID int64 // NoSession when absent
	EventID   int64 // NoEventID when absent
	InsertID  string

	EventProperties        []byte
	UserProperties         []byte
	UserPropertyOps        []byte // set by the pipeline: the operations as sent
	Groups                 []byte
	GroupProperties        []byte
	SkipUserPropertiesSync bool

	AppVersion         string
	StartVersion       string
	Platform           string
	OSName             string
	OSVersion          string
	DeviceBrand        string
	DeviceManufacturer string
	DeviceModel        string
	DeviceType         string
	DeviceFamily       string
	Carrier            string
	Browser            string

	Country  string
	Region   string
	City     string
	DMA      string
	Language string

	LocationLat *float64
	LocationLng *float64

	IP        string
	UserAgent string

	Price       *float64
	Quantity    *int64
	Revenue     *float64
	ProductID   string
	RevenueType string
	Currency    string

	IDFA            string
	IDFV            string
	ADID            string
	AndroidID       string
	AndroidAppSetID string

	Library           string
	Plan              []byte
	IngestionMetadata []byte
	PartnerID         string
	Paying            string

	// AmplitudeID is assigned by the pipeline's identity resolution.
	AmplitudeID int64
	// Seq is the event's position in the project's total order, assigned by
	// the pipeline; it breaks ties between events with equal times.
	Seq int64
}

// Batch is the unit written to the WAL: the events of one accepted request.
type Batch struct {
	ProjectID          int64
	ServerReceivedTime int64
	// Kind tells how the pipeline treats the events (see the Kind constants).
	Kind   Kind
	Events []Event
}

// Kind says where a batch came from; identify-style batches change user
// or group state without storing analysable events.
type Kind uint8

const (
	// KindEvents is an ordinary upload (/2/httpapi, /batch, legacy root upload).
	KindEvents Kind = 0
	// KindIdentify is a /identify request: user properties only, no events stored.
	KindIdentify Kind = 1
	// KindGroupIdentify is a /groupidentify request: group properties only.
	KindGroupIdentify Kind = 2
	// KindUndoMerge is an operator's undo of identity merges: each event's
	// AmplitudeID names an anonymous id whose merge is undone. Nothing is
	// stored as an event; the order in the WAL keeps it consistent with
	// the events around it.
	KindUndoMerge Kind = 3
)

// Special event types (spec §1.9).
const (
	TypeIdentify      = "$identify"
	TypeGroupIdentify = "$groupidentify"
	TypeSessionStart  = "session_start"
	TypeSessionEnd    = "session_end"
	TypeRevenue       = "revenue_amount"
)

// IsActive reports whether events of this type count as active events
// (Any Active Event, active users, sessions). Identify calls and session
// markers are stored but not active.
func IsActive(eventType string) bool {
	switch eventType {
	case TypeIdentify, TypeGroupIdentify, TypeSessionStart, TypeSessionEnd:
		return false
	}
	return true
}
