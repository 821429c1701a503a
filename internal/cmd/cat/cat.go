// Package cat implements `reprise cat`.
package cat

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
)

// NewCmdCat returns the cat command.
func NewCmdCat(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "cat",
		Short: "Print a recording as JSON Lines",
		RunE:  func(*cobra.Command, []string) error { return errors.New("cat: not implemented yet") },
	}
}
