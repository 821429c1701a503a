// Command gateway runs the reference stack's gateway service; see compose/README.md.
package main

import (
	"github.com/reprise-dev/reprise/compose/internal/gateway"
	"github.com/reprise-dev/reprise/compose/internal/svc"
)

func main() { svc.Main(gateway.RunService) }
