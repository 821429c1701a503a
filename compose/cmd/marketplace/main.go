// Command marketplace runs the reference stack's marketplace service; see compose/README.md.
package main

import (
	"github.com/reprise-dev/reprise/compose/internal/marketplace"
	"github.com/reprise-dev/reprise/compose/internal/svc"
)

func main() { svc.Main(marketplace.RunService) }
