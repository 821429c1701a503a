package inspect

// Report is what Close derives from the records. Lists are ordered by their
// ranking figure, largest first, ties broken by name so output is stable.
type Report struct {
	File     string `json:"file,omitempty"`
	Recorder string `json:"recorder,omitempty"`
	// Created is the file's creation time, RFC 3339, UTC.
	Created string `json:"created,omitempty"`
	// Start and End are the wall times of the first exchange start and the
	// last exchange end, when the header's clock gives an anchor.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// DurationSeconds runs from the first start to the last end.
	DurationSeconds float64 `json:"duration_seconds"`
	// Complete is false when the file was damaged or not closed by its writer.
	Complete bool     `json:"complete"`
	Damage   []Damage `json:"damage,omitempty"`

	Records   int64 `json:"records"`
	Exchanges int64 `json:"exchanges"`
	// OtherRecords counts record kinds this build does not know.
	OtherRecords int64 `json:"other_records"`
	// Sessions counts distinct non-empty session keys.
	Sessions         int64       `json:"sessions"`
	WithoutSession   int64       `json:"without_session"`
	RequestBytes     int64       `json:"request_bytes"`
	ResponseBytes    int64       `json:"response_bytes"`
	Protocols        []Count     `json:"protocols"`
	Methods          []Count     `json:"methods"`
	Statuses         []Count     `json:"statuses"`
	GRPCStatuses     []Count     `json:"grpc_statuses"`
	Routes           []RouteStat `json:"routes"`
	DistinctRoutes   int         `json:"distinct_routes"`
	Rate             Rate        `json:"rate"`
	Entities         Entities    `json:"entities"`
	LargestRequests  []Body      `json:"largest_requests"`
	LargestResponses []Body      `json:"largest_responses"`
	Errors           Errors      `json:"errors"`
}

// Count is one value of a breakdown and how many exchanges had it.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// RouteStat summarises the exchanges of one method and route template.
type RouteStat struct {
	Method string `json:"method"`
	Route  string `json:"route"`
	Count  int64  `json:"count"`
	// Status4xx and Status5xx count HTTP responses by class; Errors counts
	// exchanges that carry an error string (upstream or client failure).
	Status4xx int64   `json:"status_4xx"`
	Status5xx int64   `json:"status_5xx"`
	Errors    int64   `json:"errors"`
	MeanMs    float64 `json:"mean_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// Rate is the curve of exchange starts per second.
type Rate struct {
	// BucketSeconds is the width of each point: 1 for recordings up to the
	// point limit long, wider for longer ones.
	BucketSeconds int64 `json:"bucket_seconds"`
	// FirstSecond is the first bucket's start, in seconds from the clock
	// anchor.
	FirstSecond int64 `json:"first_second"`
	// Points are mean starts per second within each bucket.
	Points []float64 `json:"points"`
	// Min, Mean and Max are over single seconds from the first to the last
	// second with a start, whatever the bucket width.
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// Entities ranks the entities named in paths (route.Entities).
type Entities struct {
	Distinct int          `json:"distinct"`
	ByCount  []EntityStat `json:"by_count"`
	// ByPeak lists entities that overlapping exchanges touched at the same
	// time, the most contended first: candidates for races.
	ByPeak []EntityStat `json:"by_peak"`
}

// EntityStat is one entity key ("items/123").
type EntityStat struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
	// Peak is the largest number of exchanges touching the entity that were
	// in flight at once; PeakAtSeconds is when, from the clock anchor.
	Peak          int     `json:"peak"`
	PeakAtSeconds float64 `json:"peak_at_seconds"`
}

// Body is one of the largest request or response bodies.
type Body struct {
	Exchange  uint64 `json:"exchange"`
	Method    string `json:"method"`
	Route     string `json:"route"`
	Size      int64  `json:"size"`
	Captured  int64  `json:"captured"`
	Truncated bool   `json:"truncated"`
}

// Errors summarises exchanges that carry an error string.
type Errors struct {
	Count    int64          `json:"count"`
	Messages []ErrorMessage `json:"messages"`
	// Untracked counts errors whose message arrived after the limit on
	// distinct messages was reached.
	Untracked int64 `json:"untracked,omitempty"`
}

// ErrorMessage is one distinct error string.
type ErrorMessage struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
	// FirstExchange is the lowest exchange id with this message.
	FirstExchange uint64 `json:"first_exchange"`
}

// Damage is one place where the recording could not be read.
type Damage struct {
	Offset  int64  `json:"offset"`
	Records int64  `json:"records_before"`
	Reason  string `json:"reason"`
	// Truncated is true when nothing after Offset could be read.
	Truncated bool `json:"truncated"`
}
