// Package importcmd implements `reprise import`.
package importcmd

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
)

// NewCmdImport returns the import command.
func NewCmdImport(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "import",
		Short: "Import HAR, GoReplay or JSON Lines into a recording",
		RunE:  func(*cobra.Command, []string) error { return errors.New("import: not implemented yet") },
	}
}
