// Package procs runs more of the process's goroutines at once than it has
// CPUs, for a generator whose figure of merit is how soon a due request goes
// out.
//
// Go runs runnable goroutines on GOMAXPROCS logical processors (Ps), one per
// CPU by default, each with a first-in first-out queue. A request the replay
// dispatcher hands to a worker waits in that queue behind whatever is
// already there: the handling of responses that just arrived, the results
// writer. An execution trace of a recorded-mode replay at 15,500 requests a
// second on two CPUs showed the hand-off waiting 18 µs at the median and
// 1.3 ms at the 99th percentile, which is most of the generator lag's tail.
// With two Ps per CPU the waiting worker gets a thread of its own, and the
// kernel's scheduler, which lets a thread that just woke run soon, takes the
// place of the queue.
//
// Scale changes GOMAXPROCS only when the user did not choose it: it does
// nothing when the GOMAXPROCS environment variable is set.
package procs
