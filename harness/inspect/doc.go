// Package inspect summarises a recording in one streaming pass: span, rates,
// routes, statuses, entity contention, largest bodies and errors. Reports
// accumulate, then close: Add every record, Close to compute the derived
// figures, then render the Report as text or JSON. Memory grows with the
// number of distinct routes, sessions and entities, never with body sizes.
package inspect
