// Package extensions is Reprise's registry of compiled-in extensions:
// protocol codecs, and later drivers, observers, checkers and reporters. An
// extension registers itself in init() under a namespaced ID such as
// "protocols.grpc"; hosts look extensions up by ID or namespace and load them
// through New → strict decode → Provision → Validate. It is a registry, not a
// plugin loader: extensions/standard blank-imports the in-tree ones.
package extensions
