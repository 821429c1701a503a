// Package compose is the reference staging stack: small Go services that
// stand in for the game platform (gateway, marketplace, missions, L3
// sequencer, indexer), their Docker Compose file and image builds. See
// compose/README.md.
package compose
