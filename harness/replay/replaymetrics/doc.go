// Package replaymetrics exports a running replay's progress as Prometheus
// metrics. The collector reads the replayer's Progress on every scrape, so
// it holds no state of its own and costs nothing between scrapes.
package replaymetrics
