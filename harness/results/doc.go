// Package results turns a replay's Result records into figures that can be
// stored, merged and rendered: DDSketches of latency, service time and
// generator lag per route (sketches.json), the merge of several run
// directories (the shards of one run) into one, and the text and Markdown
// reports of a run's summary.
package results
