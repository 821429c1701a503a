package stack

import (
	"context"
	"errors"
	"fmt"

	"github.com/reprise-dev/reprise/extensions"
)

// Namespace is the extensions namespace stack drivers register in.
const Namespace = "stacks"

// Configurable is implemented by drivers that take the shared options; the
// registry's New gives an unconfigured driver, Open configures it.
type Configurable interface {
	Configure(o Options) error
}

// Open returns the registered driver with this name ("local", "compose"),
// configured with opts. The driver package must be linked in (blank import).
func Open(ctx context.Context, name string, opts ...Option) (Driver, error) {
	ext, err := extensions.Load(ctx, extensions.ID(Namespace+"."+name), nil)
	if err != nil {
		if errors.Is(err, extensions.ErrNotFound) {
			return nil, fmt.Errorf("%q: %w", name, ErrUnknownDriver)
		}
		return nil, err
	}
	d, ok := ext.(Driver)
	if !ok {
		return nil, fmt.Errorf("%s.%s is not a stack driver", Namespace, name)
	}
	if c, ok := d.(Configurable); ok {
		if err := c.Configure(NewOptions(opts...)); err != nil {
			return nil, fmt.Errorf("%s.%s: %w", Namespace, name, err)
		}
	}
	return d, nil
}

// DriverNames lists the registered drivers.
func DriverNames() []string {
	var out []string
	for _, info := range extensions.List(Namespace) {
		out = append(out, info.ID.Name())
	}
	return out
}
