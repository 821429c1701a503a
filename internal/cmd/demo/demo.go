// Package demo implements `reprise demo`.
package demo

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
)

// NewCmdDemo returns the demo command.
func NewCmdDemo(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run the end-to-end demo on the embedded default stack",
		RunE:  func(*cobra.Command, []string) error { return errors.New("demo: not implemented yet") },
	}
}
