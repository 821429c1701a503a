package gcpace

import (
	"testing"

	"go.uber.org/goleak"
)

// The pacer must not start goroutines of its own: it rides on the runtime's
// cleanup goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
