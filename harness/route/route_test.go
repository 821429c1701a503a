package route_test

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/reprise-dev/reprise/harness/route"
)

func TestTemplate(t *testing.T) {
	cases := []struct{ in, want string }{
		// Kept as they are.
		{"", ""},
		{"/", "/"},
		{"/healthz", "/healthz"},
		{"/v1/items", "/v1/items"},
		{"/v1/items/", "/v1/items/"},
		{"/api/v2beta1/users:batchGet", "/api/v2beta1/users:batchGet"},
		{"/oauth2/token", "/oauth2/token"},
		{"/auth/2fa/verify", "/auth/2fa/verify"},
		{"/k8s/i18n/l10n/h2c/web3/mp4", "/k8s/i18n/l10n/h2c/web3/mp4"},
		{"/hash/sha256/x509/base64", "/hash/sha256/x509/base64"},
		{"/dist/x86_64/utf-8", "/dist/x86_64/utf-8"},
		{"/static/index.html", "/static/index.html"},
		{"/v1/getUserProfileSettingsForAccount", "/v1/getUserProfileSettingsForAccount"},
		{"/blog/a-very-long-article-slug-about-things", "/blog/a-very-long-article-slug-about-things"},
		{"/v1/items/{id}", "/v1/items/{id}"},
		{"*", "*"},
		// Numbers.
		{"/v1/items/123", "/v1/items/{id}"},
		{"/v1/items/0", "/v1/items/{id}"},
		{"/1/2/3", "/{id}/{id}/{id}"},
		{"/users/42/orders/7/lines", "/users/{id}/orders/{id}/lines"},
		{"/reports/2026-11-27", "/reports/{id}"},
		{"/releases/1.2.3/notes", "/releases/{id}/notes"},
		// UUIDs, hex, ULIDs, tokens.
		{"/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/inventory", "/v1/players/{id}/inventory"},
		{"/v1/players/3F2504E0-4F89-11D3-9A0C-0305E82C3301", "/v1/players/{id}"},
		{"/objects/3f2504e04f8911d39a0c0305e82c3301", "/objects/{id}"},
		{"/commits/deadbeefcafebabe", "/commits/{id}"},
		{"/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/events/{id}"},
		{"/events/01arz3ndektsv4rrffq69g5fav", "/events/{id}"},
		{"/share/dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", "/share/{id}"},
		{"/share/aBcDeFgHiJkLmNoPqRsTuVwX", "/share/{id}"},
		{"/reset/c2VjcmV0LXRva2VuLXZhbHVl==", "/reset/{id}"},
		{"/v/dQw4w9WgXcQ", "/v/{id}"},
		// Mixed letters and digits.
		{"/v1/items/item_8f3a2c", "/v1/items/{id}"},
		{"/v1/orders/ord-20261127-0042", "/v1/orders/{id}"},
		{"/v1/orders/ord-20261127-0042/cancel", "/v1/orders/{id}/cancel"},
		{"/users/user4242", "/users/{id}"},
		{"/carts/abc123def", "/carts/{id}"},
		// Query and fragment are dropped.
		{"/v1/items/123?expand=1", "/v1/items/{id}"},
		{"/v1/items?page=2", "/v1/items"},
		{"/docs#section-2", "/docs"},
		// gRPC full methods stay.
		{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Check"},
		{"/reprise.echo.v1.Echo/Say2Times", "/reprise.echo.v1.Echo/Say2Times"},
		{"/pkg.Svc/GetV2Item", "/pkg.Svc/GetV2Item"},
		// Not gRPC: a numeric second segment.
		{"/files.v1/123", "/files.v1/{id}"},
		// Empty segments are preserved.
		{"//items//123/", "//items//{id}/"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, route.Template(c.in), "Template(%q)", c.in)
	}
}

func TestTemplateReturnsInputWhenUnchanged(t *testing.T) {
	p := "/v1/items/list"
	got := route.Template(p)
	require.Equal(t, p, got)
	assert.Same(t, unsafeData(p), unsafeData(got), "no copy when nothing changes")
}

func unsafeData(s string) *byte { return unsafe.StringData(s) }

func TestTemplateAllocations(t *testing.T) {
	unchanged := "/v1/players/search/inventory"
	changed := "/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/items/123"
	assert.Zero(t, testing.AllocsPerRun(100, func() { route.Template(unchanged) }))
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() { route.Template(changed) }), 1.0)
	buf := make([]route.Entity, 0, 4)
	assert.Zero(t, testing.AllocsPerRun(100, func() { buf = route.AppendEntities(buf[:0], changed) }))
}

func TestEntities(t *testing.T) {
	cases := []struct {
		in   string
		want []route.Entity
	}{
		{"/v1/items", nil},
		{"/v1/items/123", []route.Entity{{Kind: "items", ID: "123"}}},
		{
			"/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/inventory/item_8f3a2c",
			[]route.Entity{
				{Kind: "players", ID: "3f2504e0-4f89-11d3-9a0c-0305e82c3301"},
				{Kind: "inventory", ID: "item_8f3a2c"},
			},
		},
		// Consecutive IDs share the nearest literal before them.
		{"/users/42/7", []route.Entity{{Kind: "users", ID: "42"}, {Kind: "users", ID: "7"}}},
		{"/42/items", []route.Entity{{Kind: "", ID: "42"}}},
		{"/v1/items/123?x=9", []route.Entity{{Kind: "items", ID: "123"}}},
		{"/grpc.health.v1.Health/Check", nil},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, route.Entities(c.in), "Entities(%q)", c.in)
	}
}

func TestEntityKey(t *testing.T) {
	assert.Equal(t, "items/123", route.Entity{Kind: "items", ID: "123"}.Key())
	assert.Equal(t, "123", route.Entity{ID: "123"}.Key())
}

func TestIsID(t *testing.T) {
	for _, s := range []string{"1", "123", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "item_8f3a2c", "ord-20261127-0042", "2026-11-27", "abcdef0123456789"} {
		assert.True(t, route.IsID(s), s)
	}
	for _, s := range []string{"", "v1", "v2beta1", "v1alpha", "api", "healthz", "items", "{id}", "oauth2", "page-2", "en-US", "users:batchGet"} {
		assert.False(t, route.IsID(s), s)
	}
}

func TestIsGRPCMethod(t *testing.T) {
	assert.True(t, route.IsGRPCMethod("/grpc.health.v1.Health/Check"))
	assert.True(t, route.IsGRPCMethod("/a.B/C"))
	for _, s := range []string{"", "/", "/Svc/Method", "/pkg.Svc/", "/pkg.Svc/1x", "/pkg..Svc/M", "/pkg.Svc/M/extra", "pkg.Svc/M", "/pkg.1Svc/M", "/v1.2/items"} {
		assert.False(t, route.IsGRPCMethod(s), s)
	}
}

func FuzzTemplate(f *testing.F) {
	for _, s := range []string{
		"/v1/items/123", "/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/inventory",
		"/grpc.health.v1.Health/Check", "//a//1/", "/reset/c2VjcmV0==", "/x?y=1#z",
		"/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/pkg.Svc/1", "", "/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tmpl := route.Template(p)
		require.Equal(t, tmpl, route.Template(tmpl), "idempotent")
		ents := route.Entities(p)
		// Segment by segment, the template differs from the path exactly
		// where an entity was found, and only by the placeholder.
		in, out := strings.Split(cutAt(p), "/"), strings.Split(tmpl, "/")
		require.Len(t, out, len(in))
		var replaced []string
		for i := range in {
			if in[i] != out[i] {
				require.Equal(t, route.Placeholder, out[i])
				replaced = append(replaced, in[i])
			}
		}
		require.Len(t, ents, len(replaced), "%q → %q", p, tmpl)
		for i, e := range ents {
			require.Equal(t, replaced[i], e.ID)
			require.False(t, route.IsID(e.Kind), "a kind is a literal segment")
		}
	})
}

func cutAt(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

var benchPaths = []string{
	"/v1/items/123",
	"/v1/players/3f2504e0-4f89-11d3-9a0c-0305e82c3301/inventory",
	"/v1/orders/ord-20261127-0042/cancel",
	"/healthz",
	"/api/v2beta1/users/search",
	"/grpc.health.v1.Health/Check",
}

func BenchmarkTemplate(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		route.Template(benchPaths[i%len(benchPaths)])
	}
}

func BenchmarkAppendEntities(b *testing.B) {
	b.ReportAllocs()
	buf := make([]route.Entity, 0, 8)
	for i := 0; b.Loop(); i++ {
		buf = route.AppendEntities(buf[:0], benchPaths[i%len(benchPaths)])
	}
}
