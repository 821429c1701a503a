package replay

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/reprise-dev/reprise/harness/recording/rprpb"
)

func TestValidity(t *testing.T) {
	cases := []struct {
		name                         string
		lagP99                       time.Duration
		late, dropped, sent, planned int
		valid                        bool
		reason                       string
	}{
		{"clean", 2 * time.Millisecond, 0, 0, 1000, 1000, true, ""},
		{"lag at limit", 5 * time.Millisecond, 0, 0, 1000, 1000, true, ""},
		{"lag over", 5*time.Millisecond + time.Microsecond, 0, 0, 1000, 1000, false, "generator lag p99"},
		{"late 1% is fine", time.Millisecond, 10, 0, 1000, 1000, true, ""},
		{"late over 1%", time.Millisecond, 11, 0, 1000, 1000, false, "more than 100ms late"},
		{"dropped 0.1% is fine", time.Millisecond, 0, 1, 999, 1000, true, ""},
		{"dropped over 0.1%", time.Millisecond, 0, 2, 998, 1000, false, "dropped"},
		{"empty run", 0, 0, 0, 0, 0, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			valid, reason := Validity(c.lagP99, RequestCounts{Planned: c.planned, Sent: c.sent, Late: c.late, Dropped: c.dropped})
			assert.Equal(t, c.valid, valid)
			if c.reason == "" {
				assert.Empty(t, reason)
			} else {
				assert.Contains(t, reason, c.reason)
			}
		})
	}
}

// TestValidityCountsUnbuilt: a request never built is never sent, like a
// dropped one, and the two together count against the same limit.
func TestValidityCountsUnbuilt(t *testing.T) {
	cases := []struct {
		name   string
		n      RequestCounts
		valid  bool
		reason string
	}{
		{"unbuilt 0.1% is fine", RequestCounts{Planned: 1000, Sent: 999, Unbuilt: 1}, true, ""},
		{"unbuilt over 0.1%", RequestCounts{Planned: 1000, Sent: 998, Unbuilt: 2},
			false, "2 of 1000 requests (0.20%) not sent (2 unbuilt, 0 dropped), limit 0.1%"},
		{"unbuilt and dropped add up", RequestCounts{Planned: 1000, Sent: 995, Unbuilt: 3, Dropped: 2},
			false, "5 of 1000 requests (0.50%) not sent (3 unbuilt, 2 dropped), limit 0.1%"},
		{"every request unbuilt", RequestCounts{Planned: 4, Unbuilt: 4},
			false, "4 of 4 requests (100.00%) not sent (4 unbuilt, 0 dropped)"},
		{"dropped alone keeps its reason", RequestCounts{Planned: 1000, Sent: 998, Dropped: 2},
			false, "2 of 1000 requests (0.20%) dropped, limit 0.1%"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			valid, reason := Validity(time.Millisecond, c.n)
			assert.Equal(t, c.valid, valid)
			if c.reason == "" {
				assert.Empty(t, reason)
			} else {
				assert.Contains(t, reason, c.reason)
			}
		})
	}
}

func TestFailedRuns(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      RequestCounts
		errs   ErrorCounts
		failed bool
		why    string
	}{
		{"nothing planned", RequestCounts{}, ErrorCounts{}, false, ""},
		{"all sent, some failed", RequestCounts{Planned: 3, Sent: 3}, ErrorCounts{Transport: 2}, false, ""},
		{"every sent failed", RequestCounts{Planned: 4, Sent: 3, Dropped: 1}, ErrorCounts{Transport: 3}, true, "all 3 requests failed to reach http://t"},
		{"nothing sent", RequestCounts{Planned: 100, Unsupported: 100}, ErrorCounts{}, true,
			"none of 100 planned requests was sent (100 unsupported, 0 unbuilt, 0 dropped)"},
	} {
		s := Summary{Target: "http://t", Requests: c.n, Errors: c.errs}
		failed, why := s.Failed()
		assert.Equal(t, c.failed, failed, c.name)
		assert.Equal(t, c.why, why, c.name)
	}
}

// max_ms is exact, as docs/summary.md says: an HDR histogram knows a
// value only to its bucket's top (30.2 ms read as 30.207) and caps it at
// 10 min, which a long stream's latency can pass.
func TestCollectorMaxIsExact(t *testing.T) {
	c := newCollector()
	c.sum.Requests.Planned = 2
	for i, done := range []time.Duration{30200 * time.Microsecond, 11 * time.Minute} {
		c.add(&rprpb.Result{ExchangeId: uint64(i + 1), Route: "/r" + strconv.Itoa(i), Status: 200, GrpcStatus: -1,
			IntendedNs: 0, SentNs: 1, DoneNs: int64(done)})
	}
	s := c.finish()
	assert.Equal(t, float64(11*time.Minute/time.Millisecond), s.Latency.Max)
	for _, r := range s.Routes {
		want := map[string]float64{"/r0": 30.2, "/r1": float64(11 * time.Minute / time.Millisecond)}[r.Route]
		assert.Equal(t, want, r.Latency.Max, r.Route)
	}
}
