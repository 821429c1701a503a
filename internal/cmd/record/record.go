// Package record implements `reprise record`.
package record

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/internal/cli"
)

// NewCmdRecord returns the record command.
func NewCmdRecord(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "record",
		Short: "Record traffic through a transparent proxy",
		RunE:  func(*cobra.Command, []string) error { return errors.New("record: not implemented yet") },
	}
}
