package stack

import "fmt"

// Service describes one service of the reference stack.
type Service struct {
	Name string
	// GRPC is false for the gateway, which serves only HTTP.
	GRPC bool
	// Deps are the services whose addresses it needs, by the env var that
	// carries each one (platform conventions, compose/README).
	Deps map[string]string
}

// Services is the reference stack in start order: every service starts
// after its dependencies are ready.
var Services = []Service{
	{Name: "sequencer", GRPC: true},
	{Name: "indexer", GRPC: true, Deps: map[string]string{"SEQUENCER_ADDR": "sequencer"}},
	{Name: "marketplace", GRPC: true, Deps: map[string]string{"SEQUENCER_ADDR": "sequencer"}},
	{Name: "missions", GRPC: true, Deps: map[string]string{"SEQUENCER_ADDR": "sequencer"}},
	{Name: "gateway", Deps: map[string]string{
		"MARKETPLACE_ADDR": "marketplace",
		"MISSIONS_ADDR":    "missions",
		"INDEXER_ADDR":     "indexer",
	}},
}

// Names returns the service names in start order.
func Names() []string {
	out := make([]string, len(Services))
	for i, s := range Services {
		out[i] = s.Name
	}
	return out
}

// Lookup returns the service with this name.
func Lookup(name string) (Service, error) {
	for _, s := range Services {
		if s.Name == name {
			return s, nil
		}
	}
	return Service{}, fmt.Errorf("%q: %w (want one of %v)", name, ErrUnknownService, Names())
}
