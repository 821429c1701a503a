// Package recorders is the parent of everything that captures load: the
// recording proxy, Sentry and NAR ingest, and the HAR and GoReplay importers.
// Recorders write through sink.Sink and know nothing of the replay engine.
package recorders
