// Package scenarios loads declarative YAML replay scenarios: the recording
// and its filters, the target (a URL or a stack), timing, amplification,
// sharding, credentials, and the observers, checks and verdict rules that
// extensions fill in. The loader is strict (unknown fields, duplicate keys
// and wrong kinds are errors), applies defaults only to absent fields, runs
// Validate on every struct and reports every problem at once with its file,
// line and path ("scenario.yaml:12: timing.sped: unknown field").
//
// Command-line flags override a file through Overrides and Apply;
// BindFlags defines them on a pflag.FlagSet. Schema returns the JSON Schema
// committed as scenario.schema.json, and docs/scenarios.md is the field
// reference; both are generated from the struct tags (go generate).
package scenarios
