// Package standard blank-imports every in-tree extension, so that importing
// it compiles them all in.
package standard
