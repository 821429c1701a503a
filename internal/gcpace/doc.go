// Package gcpace paces the garbage collector on a fixed heap headroom instead
// of GOGC's headroom proportional to the live heap, so that a large immutable
// working set (a replay plan) does not double the peak heap. After every GC it
// lowers the GC percent so that the heap goal stays near live + headroom.
package gcpace
