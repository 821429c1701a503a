package sink

// Flush writes the recording's open block, so that a crash of this process
// loses nothing that was written before it.
func (f File) Flush() error { return f.W.Flush() }

// Sync flushes and fsyncs, so that a crash of the host loses nothing that was
// written before it.
func (f File) Sync() error { return f.W.Sync() }

var (
	_ Flusher = File{}
	_ Syncer  = File{}
)
