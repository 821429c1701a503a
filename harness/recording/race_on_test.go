//go:build race

package recording_test

// raceEnabled lets slow measurement tests skip themselves under -race, which
// multiplies both their time and their memory.
const raceEnabled = true
