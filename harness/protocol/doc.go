// Package protocol defines what a wire-protocol codec is to Reprise: how to
// recognise a protocol's exchanges, split a captured body into timed messages
// and join messages back into a body for replay. Codecs are extensions in the
// "protocols" namespace; the recorder and the replayer find them with Resolve.
package protocol
