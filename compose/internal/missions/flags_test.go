package missions

import (
	"bytes"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("FAULT_LOST_UPDATE", "")
	f, err := ParseFlags([]string{"--sequencer", ""}, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Empty(t, f.Sequencer)
	assert.False(t, f.FaultLostUpdate)

	t.Setenv("FAULT_LOST_UPDATE", "1")
	f, err = ParseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.True(t, f.FaultLostUpdate, "the fault comes from the environment")

	_, err = ParseFlags([]string{"--submit-timeout", "0s"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "flag")
	assert.ErrorContains(t, err, "submit-timeout:")

	var help bytes.Buffer
	_, err = ParseFlags([]string{"--help"}, &help)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, help.String(), "FAULT_LOST_UPDATE=1")
}
