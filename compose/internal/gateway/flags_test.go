package gateway

import (
	"bytes"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("FAULT_PANIC", "")
	t.Setenv("MARKETPLACE_ADDR", "m:1")
	f, err := ParseFlags([]string{"--indexer", "i:3", "--backend-timeout", "250ms"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, "m:1", f.Marketplace)
	assert.Equal(t, "missions:9090", f.Missions)
	assert.Equal(t, "i:3", f.Indexer)
	assert.Equal(t, 250*time.Millisecond, f.BackendTimeout)
	assert.Empty(t, f.GRPCAddr, "the gateway has no gRPC port")
	assert.False(t, f.FaultPanic)

	t.Setenv("FAULT_PANIC", "1")
	f, err = ParseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, f.FaultPanic, "the fault comes from the environment")

	_, err = ParseFlags([]string{"--marketplace", ""}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "flag")
	assert.ErrorContains(t, err, "marketplace:")

	var help bytes.Buffer
	_, err = ParseFlags([]string{"--help"}, &help)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, help.String(), "FAULT_PANIC=1")
	assert.Contains(t, help.String(), "multiple of 13")
}
