// Package route turns concrete URL paths into route templates
// ("/v1/items/123" → "/v1/items/{id}") and names the entities they touch
// ("items/123"). It runs in the recording proxy's metrics path, so it uses
// byte scanning instead of regular expressions and allocates only when a
// path actually changes.
package route
