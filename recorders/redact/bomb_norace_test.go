//go:build !race

package redact

import (
	"bytes"
	"io"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bomb builders must build what they claim, or the bomb test proves
// nothing. Inflating 2 GiB is slow under the race detector and races are
// not the question here, hence the build tag.
func TestBombsInflateToOneGiB(t *testing.T) {
	gz, err := gzip.NewReader(bytes.NewReader(gzipBomb(t)))
	require.NoError(t, err)
	n, err := io.Copy(io.Discard, gz)
	require.NoError(t, err)
	assert.Equal(t, int64(gib), n)

	n, err = io.Copy(io.Discard, flate.NewReader(bytes.NewReader(deflateBomb(t))))
	require.NoError(t, err)
	assert.Equal(t, int64(gib+64<<10), n)
}
