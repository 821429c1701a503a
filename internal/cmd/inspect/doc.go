// Package inspect implements `reprise inspect`: it parses flags, streams the
// recording through harness/inspect and prints the report as aligned text or
// JSON. A damaged file is reported up to the damage with a warning, not
// refused.
package inspect
