package timeshift_test

import (
	"fmt"
	"time"

	"github.com/reprise-dev/reprise/harness/replay/timeshift"
)

func ExampleJSON() {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	body := []byte(`{"created": "2026-11-27T10:05:00.250Z", "ts": 1795773900000, "born": "1990-01-01T00:00:00Z"}`)

	out, n := timeshift.JSON(body, 24*time.Hour, start, end)
	fmt.Println(n, string(out))
	// Output: 2 {"created": "2026-11-28T10:05:00.250Z", "ts": 1795860300000, "born": "1990-01-01T00:00:00Z"}
}
