// Command missions runs the reference stack's missions service; see compose/README.md.
package main

import (
	"github.com/reprise-dev/reprise/compose/internal/missions"
	"github.com/reprise-dev/reprise/compose/internal/svc"
)

func main() { svc.Main(missions.RunService) }
