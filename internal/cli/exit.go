package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes. They are part of the interface CI scripts rely on; never
// renumber them.
const (
	ExitOK = 0
	// ExitError is a failure of the tool or of the run itself.
	ExitError = 1
	// ExitBadInput is bad usage, a bad flag, or an unreadable or invalid input
	// file.
	ExitBadInput = 2
	// ExitInvalidRun is a replay whose measurement cannot be trusted (the
	// generator fell behind).
	ExitInvalidRun = 3
	// ExitFailedRun is a run whose checks failed.
	ExitFailedRun = 4
	// ExitRegressed is a comparison that found a regression.
	ExitRegressed = 5
	// ExitInterrupted is SIGINT/SIGTERM, as shells report 128+SIGINT.
	ExitInterrupted = 130
)

// ErrBadInput marks errors caused by the user's input; they exit with
// ExitBadInput.
var ErrBadInput = errors.New("bad input")

// CodedError carries an explicit exit code.
type CodedError struct {
	Code int
	Err  error
}

func (e *CodedError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *CodedError) Unwrap() error { return e.Err }

// WithExit wraps err so that it exits with code.
func WithExit(code int, err error) error { return &CodedError{Code: code, Err: err} }

// BadInput wraps err as a bad-input error, keeping its message.
func BadInput(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w%w", err, markBadInput{})
}

type markBadInput struct{}

func (markBadInput) Error() string        { return "" }
func (markBadInput) Is(target error) bool { return target == ErrBadInput }

// ExitCode maps an error to the process exit code, in one place.
func ExitCode(err error) int {
	var ee *CodedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case errors.Is(err, ErrBadInput):
		return ExitBadInput
	}
	return ExitError
}
