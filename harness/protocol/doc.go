// Package protocol defines what a wire-protocol codec is to Reprise: how to
// recognise a protocol's exchanges, split captured bytes into timed messages
// and join messages back into a body for replay. Codecs are extensions in the
// "protocols" namespace; importers find them with Resolve, and the recording
// proxy with a Resolver snapshot, splitting both directions of a live
// exchange into one shared Capture. A codec that also implements Driver
// replays its exchanges; the replayer finds it with DriverFor.
package protocol
