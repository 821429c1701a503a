// Package version implements `reprise version`.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/internal/cli"
)

// Version is set at build time with -ldflags "-X .../version.Version=v1.2.3".
var Version = "dev"

// String returns the version, falling back to the module version.
func String() string {
	if Version != "dev" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return Version
}

// NewCmdVersion returns the version command.
func NewCmdVersion(ios *cli.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of reprise and of its recording format",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(ios.Out, "reprise %s (recording format v%d, %s, %s/%s)\n",
				String(), recording.FormatVersion, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
