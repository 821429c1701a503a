// Package demo implements `reprise demo`: the main job on the embedded
// default, with no Docker. It starts the demo game API on loopback, puts the
// recording proxy in front of it, drives a seeded synthetic tester
// population through the proxy, stops everything and summarises the
// recording.
package demo
