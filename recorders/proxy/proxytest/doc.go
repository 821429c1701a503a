// Package proxytest runs a real recording proxy on loopback for tests: a
// proxy.Recorder in front of a given upstream, recording to a temporary .rpr
// file that is read back when the test stops it.
package proxytest
