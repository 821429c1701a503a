package replay

import (
	"testing"

	"go.uber.org/goleak"

	_ "github.com/reprise-dev/reprise/extensions/standard" // the protocol drivers
)

func TestMain(m *testing.M) {
	// httptest servers close their own conns; idle keep-alive reads of a
	// closed server's client may linger for a moment.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
