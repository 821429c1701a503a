// Package replay is the `reprise replay` verb. It resolves what to replay
// (a scenario file from package scenarios, overridden by flags, or flags
// alone), plans it with harness/replay/plan (filters, amplification, shard,
// schedule), brings up a stack target when asked, and runs the open-model
// executor of harness/replay with the TLS, credentials, time-shift and
// admin-metrics options wired in. The logic lives in those packages; this
// one only maps flags and scenario fields onto their options.
package replay
