// Package session derives the session key of a captured request with a
// chain of extractors: the first one that finds a key wins, and its name is
// recorded as the key's source. The replayer keeps causality within a
// session, so the key decides which requests are ordered against each other.
//
// # Default chain
//
// Unless configured otherwise, the recording proxy uses
//
//	header:X-Reprise-Session,header:X-Session-Id,jwt-sub,cookie:session,grpc-metadata:x-session-id,client-addr
//
// which tries, in order:
//
//  1. header:X-Reprise-Session — a header a test client sets on purpose to
//     name its session; it beats every guess.
//  2. header:X-Session-Id — the common application session header.
//  3. jwt-sub — the "sub" (subject) claim of a JWT sent as
//     "Authorization: Bearer <jwt>". The token is decoded, not verified. A
//     numeric subject is used as its decimal text.
//  4. cookie:session — the value of the cookie named "session".
//  5. grpc-metadata:x-session-id — the x-session-id metadata of a gRPC call.
//  6. client-addr — the client's IP address without the port, so that
//     every request still lands in some session.
//
// Spec elements are separated by commas. header:NAME and
// grpc-metadata:KEY match names case-insensitively; cookie:NAME matches
// exactly, as cookie names are case-sensitive; jwt-sub:HEADER reads the JWT
// from another header (a bare token or "Bearer <jwt>"). The recorded source
// is the element with header names in lower case, e.g. "header:x-session-id".
//
// # Secrets in keys
//
// Extraction runs on the raw request, before redaction. Chain.KeyRedacted
// hides keys that may be credentials with a keyed function (the redactor's
// placeholder): every cookie-derived key, and header- or metadata-derived
// keys when the header is Authorization, Proxy-Authorization, Cookie,
// Set-Cookie or one the caller names. Subjects and addresses are kept.
package session
