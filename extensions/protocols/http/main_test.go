package http_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The direct client starts no goroutine: none may be left behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
