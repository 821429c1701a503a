package extensions

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fake struct {
	id          ID
	Limit       int `json:"limit"`
	provisioned bool
	cleaned     *bool
}

func (f *fake) ExtensionInfo() Info {
	id := f.id
	return Info{ID: id, New: func() Extension { return &fake{id: id, cleaned: f.cleaned} }}
}
func (f *fake) Provision(context.Context) error { f.provisioned = true; return nil }
func (f *fake) Validate() error {
	if f.Limit < 0 {
		return errors.New("limit must be >= 0")
	}
	return nil
}
func (f *fake) Cleanup() error {
	if f.cleaned != nil {
		*f.cleaned = true
	}
	return nil
}

var (
	_ Extension    = (*fake)(nil)
	_ Provisioner  = (*fake)(nil)
	_ Validator    = (*fake)(nil)
	_ CleanerUpper = (*fake)(nil)
)

func withClean(t *testing.T) {
	mu.Lock()
	saved := registry
	registry = map[ID]Info{}
	mu.Unlock()
	t.Cleanup(func() { mu.Lock(); registry = saved; mu.Unlock() })
}

func TestRegisterPanics(t *testing.T) {
	withClean(t)
	assert.PanicsWithValue(t, "extensions: empty ID", func() { Register(&fake{}) })
	assert.Panics(t, func() { Register(&fake{id: "NoNamespace"}) })
	Register(&fake{id: "tests.one"})
	assert.PanicsWithValue(t, "extensions: tests.one registered twice", func() { Register(&fake{id: "tests.one"}) })
}

func TestListSortedByNamespace(t *testing.T) {
	withClean(t)
	for _, id := range []ID{"tests.zeta", "tests.alpha", "other.beta", "tests.sub.deep"} {
		Register(&fake{id: id})
	}
	var ids []ID
	for _, i := range List("") {
		ids = append(ids, i.ID)
	}
	assert.Equal(t, []ID{"other.beta", "tests.alpha", "tests.sub.deep", "tests.zeta"}, ids)
	ids = nil
	for _, i := range List("tests") {
		ids = append(ids, i.ID)
	}
	assert.Equal(t, []ID{"tests.alpha", "tests.zeta"}, ids)
	assert.Equal(t, "tests.sub", ID("tests.sub.deep").Namespace())
	assert.Equal(t, "deep", ID("tests.sub.deep").Name())
}

func TestLoadLifecycle(t *testing.T) {
	withClean(t)
	cleaned := false
	Register(&fake{id: "tests.x", cleaned: &cleaned})

	ext, err := Load(context.Background(), "tests.x", []byte(`{"limit": 3}`))
	require.NoError(t, err)
	f := ext.(*fake)
	assert.Equal(t, 3, f.Limit)
	assert.True(t, f.provisioned)

	_, err = Load(context.Background(), "tests.x", []byte(`{"limt": 3}`))
	require.ErrorContains(t, err, `tests.x: decode config: json: unknown field "limt"`)

	_, err = Load(context.Background(), "tests.x", []byte(`{"limit": -1}`))
	require.ErrorContains(t, err, "tests.x: validate: limit must be >= 0")
	assert.True(t, cleaned, "a failed validation cleans up what was provisioned")

	_, err = Load(context.Background(), "tests.nope", nil)
	require.ErrorIs(t, err, ErrNotFound)
}
