package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExitCode(t *testing.T) {
	base := errors.New("boom")
	cases := map[string]struct {
		err  error
		want int
	}{
		"nil":         {nil, ExitOK},
		"plain":       {base, ExitError},
		"bad input":   {BadInput(base), ExitBadInput},
		"wrapped bad": {fmt.Errorf("cat: %w", BadInput(base)), ExitBadInput},
		"explicit":    {WithExit(ExitInvalidRun, base), ExitInvalidRun},
		"canceled":    {fmt.Errorf("record: %w", context.Canceled), ExitInterrupted},
	}
	for name, c := range cases {
		assert.Equal(t, c.want, ExitCode(c.err), name)
	}
	assert.Equal(t, "boom", BadInput(base).Error(), "the marker adds nothing to the message")
	assert.ErrorIs(t, BadInput(base), base)
}
