// Package stacktest is the one integration suite every stack driver must
// pass: bring the real stack up, talk to it through the gateway, read its
// logs and stats, inject faults, and tear it down leaving nothing behind.
package stacktest
