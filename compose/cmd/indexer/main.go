// Command indexer runs the reference stack's indexer: it follows the
// sequencer's blocks into PostgreSQL or SQLite and serves gRPC Indexer;
// see compose/README.md.
package main

import (
	"github.com/reprise-dev/reprise/compose/internal/indexer"
	"github.com/reprise-dev/reprise/compose/internal/svc"
)

func main() { svc.Main(indexer.RunService) }
