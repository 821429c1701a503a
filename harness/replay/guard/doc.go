// Package guard keeps a replay from reaching anything but a staging
// target: loopback addresses, or hosts the user named explicitly. Replaying
// recorded traffic into production by accident must be impossible, so the
// check runs before any request and resolves names rather than trusting them.
package guard
