// Package redact replaces secrets in captured exchanges by keyed, stable
// placeholders before anything reaches disk. A placeholder is
// "rpr-redacted-" followed by 24 hex characters of HMAC-SHA256(key, secret),
// so the same secret gets the same placeholder everywhere in a recording (a
// token issued in a login response and later sent as "Bearer <token>", a
// Set-Cookie value later sent in Cookie) and the replayer can still follow
// the data flow, while nobody without the key can test guesses.
//
// What is replaced:
//
//   - Authorization and Proxy-Authorization: the credential after the scheme
//     word (Bearer, Basic, Token, ...); the scheme word stays.
//   - Cookie: every cookie value; Set-Cookie: the value of the first pair.
//     Names and attributes stay.
//   - Policy.Headers: the whole value.
//   - Location, Content-Location, Referer: secret query and fragment
//     parameters.
//   - The request query and application/x-www-form-urlencoded bodies: values
//     of Policy.QueryParams (and, for bodies, Policy.JSONFields).
//   - JSON bodies and WebSocket text frames: string and number values of
//     Policy.JSONFields at any depth, and the elements of arrays under them.
//     Only those values change; keys, key order, whitespace and escapes stay
//     byte for byte. A body is JSON when its media type contains "json" or
//     it starts with '{' or '[' and parses; NDJSON parses too.
//   - multipart/form-data: parts named like a secret field, whole.
//   - The session key, when its source is a cookie or a secret header.
//
// gRPC message bytes are left alone; gRPC metadata is headers and trailers,
// so the header rules cover it. Empty values and values that already are
// placeholders are kept, which makes redaction idempotent.
//
// Failing closed. Bodies are decoded from gzip, x-gzip, deflate (zlib or
// raw) and zstd, redacted, and re-encoded with the same codings; Body.Size
// keeps the wire size. Decoding stops at 16 times the captured size (never
// less than 1 MiB) and at MaxDecodedBody (8 MiB) whatever the ratio, so a
// compression bomb costs bounded memory. A body that cannot be decoded (an
// unknown coding such as br, a truncated or corrupt stream, one past the
// cap) is dropped: Data becomes nil and Truncated true. A body that should
// be JSON but does not parse (typically a capture truncated at the body
// cap), and every other uncompressed body, is byte-scanned for
// `"field" : "value"` and `"field" : number`; a string cut off by the end of
// the capture is replaced up to the end, so no prefix of a secret survives.
// Compressed WebSocket frames (permessage-deflate) are dropped the same way.
//
// Known limits: a secret split across two WebSocket frames, secrets in the
// URL path, in Exchange.Error, or in bodies of other text formats (XML,
// plain "password=" text outside form bodies) are not found.
package redact
