// Package inspect implements `reprise inspect`.
package inspect

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
)

// NewCmdInspect returns the inspect command.
func NewCmdInspect(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "inspect",
		Short: "Summarise a recording",
		RunE:  func(*cobra.Command, []string) error { return errors.New("inspect: not implemented yet") },
	}
}
