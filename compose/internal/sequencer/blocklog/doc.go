// Package blocklog is the sequencer's durable chain: an append-only file of
// length-prefixed, CRC-32C-checked block records, fsynced one block at a
// time. Opening it reads back every complete record, cuts off a record torn
// by a crash and refuses, naming file and offset, anything damaged before
// the tail.
package blocklog
