package blocklog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	pb "github.com/reprise-dev/reprise/compose/proto/platform"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// blocks builds a chain of n blocks, block i holding i-1 transactions.
func blocks(n int) []*pb.Block {
	var out []*pb.Block
	parent := "0xgenesis"
	for i := 1; i <= n; i++ {
		b := &pb.Block{Number: uint64(i), ParentHash: parent, Hash: fmt.Sprintf("0xb%d", i), ProducedUnixNano: int64(i)}
		for j := range i - 1 {
			b.Txs = append(b.Txs, &pb.Tx{Hash: fmt.Sprintf("0xt%d.%d", i, j), Kind: "buy", Player: "p", ItemId: int64(j + 1)})
		}
		out = append(out, b)
		parent = b.Hash
	}
	return out
}

// written appends bs to a fresh log and returns its dir and the record
// offsets, plus the file's size at the end.
func written(t *testing.T, bs []*pb.Block) (string, []int64, int64) {
	t.Helper()
	dir := t.TempDir()
	l, err := Open(dir)
	require.NoError(t, err)
	var offs []int64
	for _, b := range bs {
		offs = append(offs, l.size)
		require.NoError(t, l.Append(b))
	}
	size := l.size
	require.NoError(t, l.Close())
	return dir, offs, size
}

func reopen(t *testing.T, dir string) *Log {
	t.Helper()
	l, err := Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAppendReopenReadAndTail(t *testing.T) {
	want := blocks(5)
	dir, _, _ := written(t, want)
	l := reopen(t, dir)
	assert.Equal(t, uint64(5), l.Len())
	assert.Equal(t, uint64(0+1+2+3+4), l.Txs())
	assert.Zero(t, l.Truncated())
	for _, b := range want {
		got, err := l.Read(b.Number)
		require.NoError(t, err)
		assert.True(t, proto.Equal(b, got), "block %d", b.Number)
	}
	tail, err := l.Tail(2)
	require.NoError(t, err)
	require.Len(t, tail, 2)
	assert.Equal(t, []uint64{4, 5}, []uint64{tail[0].Number, tail[1].Number})
	all, err := l.Tail(100)
	require.NoError(t, err)
	assert.Len(t, all, 5)
	_, err = l.Read(6)
	assert.ErrorIs(t, err, ErrOutOfRange)

	next := blocks(6)[5]
	foreign := proto.Clone(next).(*pb.Block)
	foreign.ParentHash = "0xother"
	assert.ErrorIs(t, l.Append(foreign), ErrOutOfOrder)
	assert.ErrorIs(t, l.Append(want[4]), ErrOutOfOrder, "a block already in the log")
	require.NoError(t, l.Append(next))
	require.NoError(t, l.Close())
	assert.ErrorIs(t, l.Append(blocks(7)[6]), ErrClosed)
	_, err = l.Read(1)
	assert.ErrorIs(t, err, ErrClosed)
	assert.Equal(t, uint64(6), reopen(t, dir).Len())
}

func TestFirstBlockMustBeOne(t *testing.T) {
	l := reopen(t, t.TempDir())
	assert.ErrorIs(t, l.Append(blocks(2)[1]), ErrOutOfOrder)
}

// A crash mid-append leaves part of the last record, or a last record whose
// bytes did not all reach the disk: Open cuts it and the log goes on.
func TestTornTailIsCutAndTheLogGoesOn(t *testing.T) {
	bs := blocks(4)
	for name, damage := range map[string]func(path string, last, size int64) error{
		"mid header":      func(p string, last, _ int64) error { return os.Truncate(p, last+3) },
		"mid payload":     func(p string, last, size int64) error { return os.Truncate(p, (last+size)/2) },
		"one byte short":  func(p string, _, size int64) error { return os.Truncate(p, size-1) },
		"checksum at end": func(p string, _, size int64) error { return flip(p, size-1) },
		"zeros past end": func(p string, _, size int64) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write(make([]byte, 4096))
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir, offs, size := written(t, bs)
			path := filepath.Join(dir, FileName)
			require.NoError(t, damage(path, offs[3], size))
			l := reopen(t, dir)
			kept := uint64(3)
			if name == "zeros past end" {
				kept = 4
			}
			require.Equal(t, kept, l.Len())
			assert.Positive(t, l.Truncated())
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, l.size, st.Size(), "the file ends at the last good record")
			require.NoError(t, l.Append(blocks(int(kept) + 1)[kept]), "appends go on after the cut")
			require.NoError(t, l.Close())
			again := reopen(t, dir)
			assert.Equal(t, kept+1, again.Len())
			assert.Zero(t, again.Truncated())
		})
	}
}

func flip(path string, off int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		return err
	}
	b[0] ^= 0x40
	_, err = f.WriteAt(b, off)
	return err
}

// Damage before the tail is not a crash's doing: Open refuses, names the
// file and offset, and leaves the file as it was for a human to look at.
func TestDamageBeforeTheTailIsCorrupt(t *testing.T) {
	bs := blocks(4)
	for name, c := range map[string]struct {
		damage func(path string, offs []int64) error
		want   string
	}{
		"bad magic":        {func(p string, _ []int64) error { return flip(p, 0) }, "offset 0: not a block log"},
		"payload bit flip": {func(p string, o []int64) error { return flip(p, o[1]+headerSize+2) }, "record 2: checksum"},
		"length garbage":   {func(p string, o []int64) error { return flip(p, o[2]+3) }, "record 3: length"},
	} {
		t.Run(name, func(t *testing.T) {
			dir, offs, size := written(t, bs)
			path := filepath.Join(dir, FileName)
			require.NoError(t, c.damage(path, offs))
			_, err := Open(dir)
			require.ErrorIs(t, err, ErrCorrupt)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), c.want)
			if name != "bad magic" {
				assert.Contains(t, err.Error(), "offset ")
			}
			st, serr := os.Stat(path)
			require.NoError(t, serr)
			assert.Equal(t, size, st.Size(), "nothing was truncated")
		})
	}
	_, offs, _ := written(t, bs)
	assert.Equal(t, int64(len(magic)), offs[0])
}

func TestNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := Open(file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), file)
}

// FuzzOpen opens arbitrary file contents: an error or a recovered log,
// never a panic; and a recovered log reopens unchanged and takes appends.
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	l, err := Open(dir)
	require.NoError(f, err)
	for _, b := range blocks(3) {
		require.NoError(f, l.Append(b))
	}
	require.NoError(f, l.Close())
	good, err := os.ReadFile(filepath.Join(dir, FileName))
	require.NoError(f, err)
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(good[:len(magic)+3])
	f.Add(magic[:3])
	f.Add([]byte{})
	f.Add(append(append([]byte{}, good...), 0, 0, 0, 0, 0, 0, 0, 0, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, FileName), data, 0o644))
		l, err := Open(dir)
		if err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		n := l.Len()
		require.NoError(t, l.Close())
		l = reopen(t, dir)
		require.Equal(t, n, l.Len())
		require.Zero(t, l.Truncated(), "recovery is idempotent")
		next := &pb.Block{Number: n + 1, Hash: "0xnext"}
		if n > 0 {
			last, err := l.Read(n)
			require.NoError(t, err)
			next.ParentHash = last.Hash
		}
		require.NoError(t, l.Append(next))
	})
}
