package guard

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	addrs, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestCheck(t *testing.T) {
	res := fakeResolver{
		"stack.internal": {"127.0.0.2"},
		"mixed.example":  {"127.0.0.1", "93.184.216.34"},
		"prod.example":   {"93.184.216.34"},
	}
	cases := []struct {
		target string
		allow  []string
		ok     bool
		msg    string
	}{
		{"http://127.0.0.1:8080", nil, true, ""},
		{"http://127.9.9.9", nil, true, ""},
		{"http://[::1]:9000", nil, true, ""},
		{"http://[::ffff:127.0.0.1]:9000", nil, true, ""},
		{"http://localhost:8080", nil, true, ""},
		{"http://LOCALHOST", nil, true, ""},
		{"http://stack.internal", nil, true, ""},
		{"http://93.184.216.34", nil, false, "93.184.216.34 is not a loopback address"},
		{"http://[2001:db8::1]", nil, false, "not a loopback"},
		{"https://prod.example", nil, false, "resolves to 93.184.216.34, not loopback"},
		{"https://mixed.example", nil, false, "not loopback"},
		{"https://unknown.example", nil, false, "resolve unknown.example"},
		{"https://prod.example", []string{"prod.example"}, true, ""},
		{"http://93.184.216.34:80", []string{"93.184.216.34"}, true, ""},
		{"http://10.0.0.1", []string{"prod.example"}, false, "--allow-target 10.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.target, func(t *testing.T) {
			u, err := url.Parse(c.target)
			require.NoError(t, err)
			err = Check(context.Background(), u, WithResolver(res), Allow(c.allow...))
			if c.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrRefused)
			assert.Contains(t, err.Error(), c.msg)
			assert.Contains(t, err.Error(), "--allow-target")
		})
	}
}
