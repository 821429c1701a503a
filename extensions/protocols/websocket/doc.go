// Package websocket is the protocols.websocket codec: it recognises
// WebSocket upgrades (RFC 6455) and splits the upgraded connection into
// frames, unmasking client payloads and keeping each frame's opcode and
// arrival time, so that a connection is recorded as one exchange, frame by
// frame. As a protocol.Driver it replays the client's frames at their
// recorded offsets and reads the server's, until either side closes or the
// recorded duration has passed.
package websocket
