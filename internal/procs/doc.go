// Package procs runs more of the process's goroutines at once than it has
// CPUs, for a generator whose figure of merit is how soon a due request goes
// out.
//
// Go runs runnable goroutines on GOMAXPROCS logical processors (Ps), one per
// CPU by default, each with a first-in first-out queue. A goroutine the
// replay wakes to send (the dispatcher's role handed on, a successor fired)
// waits in that queue behind whatever is already there: the handling of
// responses that just arrived. An execution trace of a recorded-mode replay
// at 15,500 requests a second on two CPUs showed a request handed to a
// worker waiting 18 µs at the median and 1.3 ms at the 99th percentile. With
// two Ps per CPU the woken goroutine can get a thread of its own, and the
// kernel's scheduler, which lets a thread that just woke run soon, takes the
// place of the queue: in four paired runs at 18,600 requests a second the
// lag p99 was 1.18 to 1.61 ms with two per CPU, 1.76 to 2.60 ms with one.
//
// Scale changes GOMAXPROCS only when the user did not choose it: it does
// nothing when the GOMAXPROCS environment variable is set.
package procs
