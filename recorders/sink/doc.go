// Package sink is the small interface every recorder writes records through,
// with the adapters around it: a recording file, a capture for tests, and a
// fail-open bounded queue that never lets a slow disk block traffic.
package sink
