// Package merge implements `reprise merge`: it merges the run directories
// of one run's shards through harness/results into a new run directory and
// prints the merged summary, exiting like replay does on an invalid run.
package merge
