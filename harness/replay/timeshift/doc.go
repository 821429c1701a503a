// Package timeshift moves the timestamps in recorded JSON bodies so that a
// replay sends "now" where the recording sent "then". Only values that look
// like instants inside the recording's own span are moved, in their own
// format and precision, and every other byte of the body is kept.
package timeshift
