// Package record implements `reprise record`: it runs the recording proxy
// (recorders/proxy) in front of an upstream until interrupted, then drains
// every captured exchange into the recording and prints a summary.
package record
