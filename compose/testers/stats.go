package testers

import "time"

// StatusClasses counts HTTP responses by status class.
type StatusClasses struct {
	S1xx int64 `json:"1xx"`
	S2xx int64 `json:"2xx"`
	S3xx int64 `json:"3xx"`
	S4xx int64 `json:"4xx"`
	S5xx int64 `json:"5xx"`
}

func (s *StatusClasses) add(code int) {
	switch {
	case code < 200:
		s.S1xx++
	case code < 300:
		s.S2xx++
	case code < 400:
		s.S3xx++
	case code < 500:
		s.S4xx++
	default:
		s.S5xx++
	}
}

// ProfileStats counts what the testers of one profile did. A request is one
// HTTP attempt; retries are requests too.
type ProfileStats struct {
	Testers       int   `json:"testers"`
	Logins        int64 `json:"logins"`
	LoginFailures int64 `json:"login_failures"`
	// Actions is the planned actions carried out (tried), login excluded.
	Actions  int64         `json:"actions"`
	Requests int64         `json:"requests"`
	Status   StatusClasses `json:"status"`
	// Conflicts is 409 responses: a buy lost to another tester.
	Conflicts int64 `json:"conflicts"`
	// TransportErrors are failed attempts not caused on purpose.
	TransportErrors int64 `json:"transport_errors"`
	// Intentional are failed attempts the flaky profile caused itself.
	Intentional int64 `json:"intentional_errors"`
	// Interrupted are attempts cut off by the end of the run.
	Interrupted int64 `json:"interrupted"`
	Retries     int64 `json:"retries"`
	Reconnects  int64 `json:"reconnects"`
	// NARPosts are NAR traces the gateway accepted.
	NARPosts int64 `json:"nar_posts"`
	// OrderReads are orders read back (200) after a successful buy;
	// OrderReadFailures are read-backs that did not answer 200.
	OrderReads        int64 `json:"order_reads,omitempty"`
	OrderReadFailures int64 `json:"order_read_failures,omitempty"`
}

func (a *ProfileStats) add(b ProfileStats) {
	a.Testers += b.Testers
	a.Logins += b.Logins
	a.LoginFailures += b.LoginFailures
	a.Actions += b.Actions
	a.Requests += b.Requests
	a.Status.S1xx += b.Status.S1xx
	a.Status.S2xx += b.Status.S2xx
	a.Status.S3xx += b.Status.S3xx
	a.Status.S4xx += b.Status.S4xx
	a.Status.S5xx += b.Status.S5xx
	a.Conflicts += b.Conflicts
	a.TransportErrors += b.TransportErrors
	a.Intentional += b.Intentional
	a.Interrupted += b.Interrupted
	a.Retries += b.Retries
	a.Reconnects += b.Reconnects
	a.NARPosts += b.NARPosts
	a.OrderReads += b.OrderReads
	a.OrderReadFailures += b.OrderReadFailures
}

// Stats is the outcome of a run, per profile.
type Stats struct {
	Elapsed  time.Duration            `json:"elapsed"`
	Profiles map[Profile]ProfileStats `json:"profiles"`
}

// Total sums every profile.
func (s Stats) Total() ProfileStats {
	var t ProfileStats
	for _, p := range s.Profiles {
		t.add(p)
	}
	return t
}
