// Package importers holds what the HAR and GoReplay importers share: their
// options, their statistics, their errors and the last step every imported
// exchange goes through (session key, redaction, body cap, write), so that an
// imported recording looks like one the recording proxy wrote.
//
// # Calling an importer
//
// Both har.Import and gor.Import have the same shape:
//
//	stats, err := har.Import(ctx, r, name, newSink, opts...)
//
// r is the input and name its file name, used in every error message ("-"
// for stdin is fine). newSink is a NewSinkFunc: the importer calls it exactly
// once, with the finished FileHeader, before it writes the first record, and
// then writes every record through the returned sink. It is called even when
// the input holds no exchange (the header's anchor is then 0), and it is not
// called when the input is rejected before the anchor is known (a HAR file is
// parsed and checked whole first, so a bad HAR never creates an output). A
// .gor input is streamed, so an error can come after records were written;
// the caller decides whether to keep the partial output. A typical caller:
//
//	var w *recording.Writer
//	newSink := func(ctx context.Context, hdr *rprpb.FileHeader) (sink.Sink, error) {
//		var err error
//		w, err = recording.Create(out, hdr)
//		return sink.File{W: w}, err
//	}
//	stats, err := gor.Import(ctx, f, path, newSink, importers.WithSessions(chain))
//	if w != nil { err = errors.Join(err, w.Close()) }
//	if errors.Is(err, importers.ErrInvalid) || errors.Is(err, importers.ErrLimit) {
//		return cli.BadInput(err)
//	}
//
// # The header
//
// Recorder is "reprise import har" or "reprise import gor"; Clock.Source is
// "imported" and Clock.AnchorUnixNano the earliest request start (see each
// importer's doc for how it finds it); Redaction is the redactor's policy;
// RecorderConfig holds format, source (the name), body_cap, session_chain,
// skip_invalid and the limits.
//
// # What every exchange goes through
//
//   - The session key is derived from the request headers by the session
//     chain exactly as the proxy derives it, through Chain.KeyRedacted with
//     the redactor's placeholders, before any redaction. Imports have no
//     client address, so a client-addr extractor never yields; each importer
//     documents its fallback key.
//   - The redactor then replaces secrets in place, as the proxy does, so no
//     secret of the input reaches the sink.
//   - Only then are bodies cut to the body cap (Truncated set, Size keeping
//     the full size). Redacting before cutting matters: a cut through a
//     secret could leave a prefix the redactor no longer recognises.
//   - Request and response bodies of protocols that split bodies into
//     messages (gRPC) are split by the codec registered in harness/protocol,
//     the same one the proxy uses.
//
// # Errors
//
// Errors about the input wrap ErrInvalid (bad syntax, bad entry) or ErrLimit
// (a limit was exceeded) and say where: "trace.har: entries[12].request.url:
// ..." or "traffic.gor: line 57: ...". With SkipInvalid(true) a bad entry or
// record, or one beyond MaxEntryBytes, is skipped and counted in Stats
// (Skipped, and the first errors in Errors) instead of failing the import.
// What cannot be skipped still fails: a JSON syntax error (nothing after it
// can be trusted) and an input beyond MaxInputBytes.
//
// # Limits
//
// MaxInputBytes bounds the whole input (HAR: har.DefaultMaxInputBytes, as
// the document is held in memory; .gor: unlimited, as it is streamed).
// MaxEntryBytes bounds one .gor record and one decoded HAR body.
// MaxPending and MaxPendingBytes bound what a .gor import holds while
// requests wait for responses. Header lists are built in linear time
// whatever their size (HeaderList).
package importers
