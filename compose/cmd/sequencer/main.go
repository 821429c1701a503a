// Command sequencer runs the reference stack's L3 sequencer (gRPC
// Sequencer: SubmitTx, StreamBlocks); see compose/README.md.
package main

import (
	"github.com/reprise-dev/reprise/compose/internal/sequencer"
	"github.com/reprise-dev/reprise/compose/internal/svc"
)

func main() { svc.Main(sequencer.RunService) }
