// Package importcmd implements `reprise import`: it turns JSON Lines (the
// lossless interchange `reprise cat` writes), HAR files and GoReplay .gor
// captures into a recording, through harness/recording/jsonl and the
// importers in recorders/importers.
package importcmd
