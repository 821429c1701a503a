// Package local is the embedded default stack driver ("stacks.local"): it
// builds the reference services once and runs them as child processes on
// free loopback ports, with no Docker. Logs come from the processes' output,
// stats from /proc, and faults are signals to each process group.
package local
