package root

import (
	"github.com/reprise-dev/reprise/internal/cmd/cat"
	"github.com/reprise-dev/reprise/internal/cmd/demo"
	"github.com/reprise-dev/reprise/internal/cmd/importcmd"
	"github.com/reprise-dev/reprise/internal/cmd/inspect"
	"github.com/reprise-dev/reprise/internal/cmd/merge"
	"github.com/reprise-dev/reprise/internal/cmd/record"
	"github.com/reprise-dev/reprise/internal/cmd/replay"
	"github.com/reprise-dev/reprise/internal/cmd/report"
	"github.com/reprise-dev/reprise/internal/cmd/stack"
	"github.com/reprise-dev/reprise/internal/cmd/testers"
)

// Every verb beyond version and extensions is listed here, one line each.
func init() {
	verbs = append(verbs,
		record.NewCmdRecord,
		cat.NewCmdCat,
		importcmd.NewCmdImport,
		inspect.NewCmdInspect,
		demo.NewCmdDemo,
		testers.NewCmdTesters,
		stack.NewCmdStack,
		replay.NewCmdReplay,
		report.NewCmdReport,
		merge.NewCmdMerge,
	)
}
