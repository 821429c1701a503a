package replay

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
			valid, reason := Validity(c.lagP99, c.late, c.dropped, c.sent, c.planned)
			assert.Equal(t, c.valid, valid)
			if c.reason == "" {
				assert.Empty(t, reason)
			} else {
				assert.Contains(t, reason, c.reason)
			}
		})
	}
}
