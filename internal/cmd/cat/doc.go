// Package cat implements `reprise cat`: it streams a recording to standard
// output as JSON Lines (the lossless interchange of harness/recording/jsonl)
// or as one human line per record, salvaging what survives in a damaged file
// and saying on standard error where the damage is.
package cat
