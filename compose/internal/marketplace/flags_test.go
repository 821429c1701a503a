package marketplace

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("FAULT_BUY_RACE", "")
	t.Setenv("SEQUENCER_ADDR", "seq:1")
	f, err := ParseFlags([]string{"--items", "7", "--grpc", "127.0.0.1:0"}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, 7, f.Items)
	assert.Equal(t, int64(DefaultStartBalance), f.StartBalance)
	assert.Equal(t, "seq:1", f.Sequencer)
	assert.Equal(t, "127.0.0.1:0", f.GRPCAddr)
	assert.False(t, f.FaultBuyRace)

	t.Setenv("FAULT_BUY_RACE", "1")
	t.Setenv("ITEMS", "9")
	f, err = ParseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, f.FaultBuyRace, "the fault comes from the environment")
	assert.Equal(t, 9, f.Items)

	_, err = ParseFlags([]string{"--items", "0"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "flag", "svc.Main exits 2 on it")
	assert.ErrorContains(t, err, "items:")
	_, err = ParseFlags([]string{"extra"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "unexpected argument")

	var help bytes.Buffer
	_, err = ParseFlags([]string{"--help"}, &help)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, help.String(), "FAULT_BUY_RACE=1")
	assert.Contains(t, help.String(), "Example:")
}
