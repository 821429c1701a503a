// Package demo implements `reprise demo`: the main job on the embedded
// default, with no Docker. It brings the reference stack up with the local
// driver, puts the recording proxy in front of its gateway, drives a seeded
// synthetic tester population through the proxy, tears everything down and
// summarises the recording.
package demo
