package proxy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestBodyBufferClasses(t *testing.T) {
	for _, c := range []struct{ want, cap int }{{1, 512}, {512, 512}, {513, 1024}, {1000, 1024}, {64 << 10, 64 << 10}} {
		b := getBody(c.want)
		assert.Empty(t, b)
		assert.GreaterOrEqual(t, cap(b), c.want)
		assert.Equal(t, c.cap, cap(b), "want %d", c.want)
	}
	assert.Equal(t, 100_000, cap(getBody(100_000)), "past the largest class: exact, unpooled")

	// A buffer comes back under the largest class its capacity covers, so
	// whatever a class hands out holds that class's size.
	putBody(make([]byte, 10, 1500))
	putBody(make([]byte, 0, 100))   // too small to pool
	putBody(make([]byte, 0, 1<<20)) // too large to pin
	for range 4 {
		b := getBody(1024)
		assert.GreaterOrEqual(t, cap(b), 1024)
		assert.Empty(t, b)
	}
}
