package importcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/reprise-dev/reprise/harness/recording"
	"github.com/reprise-dev/reprise/harness/recording/rprpb"
	"github.com/reprise-dev/reprise/recorders/sink"
)

var errOutExists = errors.New("output exists")

// output writes the recording to a temporary file beside the destination and
// renames it into place on success, so that a failed import leaves nothing
// behind and never clobbers an existing file without --force.
type output struct {
	path  string
	force bool
	tmp   *os.File
	w     *recording.Writer
}

func (o *output) newSink(_ context.Context, hdr *rprpb.FileHeader) (sink.Sink, error) {
	if o.w != nil {
		return nil, errors.New("the importer asked for a second output")
	}
	dir, base := filepath.Split(o.path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	w, err := recording.NewWriter(f, hdr)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	o.tmp, o.w = f, w
	return sink.File{W: w}, nil
}

func (o *output) commit() error {
	if o.w == nil {
		return errors.New("the importer produced no output")
	}
	err := o.w.Close()
	if err == nil {
		err = o.tmp.Sync()
	}
	if cerr := o.tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if !o.force {
		if _, err := os.Stat(o.path); err == nil {
			return fmt.Errorf("%s appeared during the import; use --force to replace it: %w", o.path, errOutExists)
		}
	}
	if err := os.Rename(o.tmp.Name(), o.path); err != nil {
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	o.tmp, o.w = nil, nil
	return nil
}

// discard removes the temporary file of an import that did not commit.
func (o *output) discard() {
	if o.tmp == nil {
		return
	}
	o.w.Close()
	o.tmp.Close()
	os.Remove(o.tmp.Name())
}
