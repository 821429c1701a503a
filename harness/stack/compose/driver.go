package compose

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/reprise-dev/reprise/extensions"
	"github.com/reprise-dev/reprise/harness/stack"
)

func init() { extensions.Register(&Driver{}) }

// Driver runs the stack on a Docker Engine. It keeps no state of its own
// beyond a client: everything is found by label, so `up` in one process and
// `down` in another work on the same stack.
type Driver struct {
	opts stack.Options

	mu  sync.Mutex
	cli *client.Client
	// imageFor overrides ServiceImage, for tests with stand-in services.
	imageFor func(service string) string
}

// New returns a compose driver configured with opts.
func New(opts ...stack.Option) *Driver {
	return &Driver{opts: stack.NewOptions(opts...)}
}

// ExtensionInfo registers the driver as stacks.compose.
func (*Driver) ExtensionInfo() extensions.Info {
	return extensions.Info{
		ID:      "stacks.compose",
		New:     func() extensions.Extension { return New() },
		Summary: "the reference stack, PostgreSQL and Prometheus as Docker containers (testcontainers-go)",
	}
}

// Configure replaces the driver's options.
func (d *Driver) Configure(o stack.Options) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.opts = o
	return nil
}

// client returns the Docker client, created on first use. Ryuk, the
// testcontainers reaper, is switched off before testcontainers reads its
// configuration: it would need an image pull, and Down removes everything
// by label instead.
func (d *Driver) client() (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cli != nil {
		return d.cli, nil
	}
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	// Inside a container (a /.dockerenv exists) testcontainers looks for
	// the engine at the default gateway; with a local socket the published
	// ports are on loopback, where Endpoints points too.
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && localEngine() {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	d.cli = cli
	return cli, nil
}

// Close releases the Docker client; the stack keeps running.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cli == nil {
		return nil
	}
	err := d.cli.Close()
	d.cli = nil
	return err
}

// localEngine reports whether the engine is reached through a local socket.
func localEngine() bool {
	h := os.Getenv("DOCKER_HOST")
	return h == "" || strings.HasPrefix(h, "unix://")
}

func (d *Driver) networkName() string { return "reprise-" + d.opts.ID }

func (d *Driver) containerName(service string) string {
	return "reprise-" + d.opts.ID + "-" + service
}

func (d *Driver) labels(service string) map[string]string {
	l := map[string]string{LabelStack: d.opts.ID}
	if service != "" {
		l[LabelService] = service
	}
	return l
}

// Up creates the network and starts every container in dependency order,
// each waited for over its published port (or its health check). Images
// must exist locally: nothing is pulled. On failure or when ctx ends, Up
// removes everything it created.
func (d *Driver) Up(ctx context.Context) (err error) {
	cli, err := d.client()
	if err != nil {
		return err
	}
	existing, err := d.containers(ctx)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		return fmt.Errorf("stack %q: %w (run `reprise stack down --driver compose --id %s`)", d.opts.ID, stack.ErrAlreadyUp, d.opts.ID)
	}
	topo := topology(d.opts.Env, d.imageFor)
	if err := d.checkImages(ctx, topo); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			// Remove what was created even though ctx may be done.
			d.teardown(context.WithoutCancel(ctx))
		}
	}()
	if _, err := cli.NetworkCreate(ctx, d.networkName(), client.NetworkCreateOptions{
		Driver: "bridge", Labels: d.labels(""),
	}); err != nil {
		return fmt.Errorf("create network %s: %w", d.networkName(), err)
	}
	for _, c := range topo {
		if err := d.run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// checkImages fails with ErrImageMissing naming every image not present
// locally, before anything is created: testcontainers would pull them.
func (d *Driver) checkImages(ctx context.Context, topo []container) error {
	cli, err := d.client()
	if err != nil {
		return err
	}
	var missing []string
	for _, c := range topo {
		if _, err := cli.ImageInspect(ctx, c.image); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			missing = append(missing, c.image)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", stack.ErrImageMissing, strings.Join(missing, ", "))
	}
	return nil
}

// run creates, starts and waits for one container.
func (d *Driver) run(ctx context.Context, c container) error {
	var waitFor wait.Strategy = wait.ForHealthCheck().WithStartupTimeout(d.opts.ReadyTimeout)
	if c.readyPath != "" {
		waitFor = wait.ForHTTP(c.readyPath).WithPort(c.readyPort).
			WithStartupTimeout(d.opts.ReadyTimeout).WithPollInterval(readyPoll)
	}
	var files []testcontainers.ContainerFile
	for path, content := range c.files {
		files = append(files, testcontainers.ContainerFile{Reader: strings.NewReader(content), ContainerFilePath: path, FileMode: 0o644})
	}
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          c.image,
			Name:           d.containerName(c.service),
			Env:            c.env,
			ExposedPorts:   c.ports,
			Labels:         d.labels(c.service),
			Networks:       []string{d.networkName()},
			NetworkAliases: map[string][]string{d.networkName(): {c.service}},
			Files:          files,
			WaitingFor:     waitFor,
		},
		Started: true,
		Logger:  tclog.NewNoopLogger(),
	}
	if _, err := testcontainers.GenericContainer(ctx, req); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", c.service, ctx.Err())
		}
		return fmt.Errorf("%s: %w: %w", c.service, stack.ErrNotReady, err)
	}
	return nil
}

// Down removes every container, network and volume labelled with this
// stack's ID. It is idempotent and works from any process.
func (d *Driver) Down(ctx context.Context) error {
	if _, err := d.client(); err != nil {
		return err
	}
	return d.teardown(ctx)
}

func (d *Driver) teardown(ctx context.Context) error {
	cli, err := d.client()
	if err != nil {
		return err
	}
	var errs []error
	cs, err := d.containers(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.Labels[LabelService], err))
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: d.filter()})
	if err != nil {
		return err
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: d.filter()})
	if err != nil {
		return err
	}
	for _, v := range vols.Items {
		if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Leftovers lists containers, networks and volumes still labelled with this
// stack's ID.
func (d *Driver) Leftovers(ctx context.Context) ([]string, error) {
	cli, err := d.client()
	if err != nil {
		return nil, err
	}
	var out []string
	cs, err := d.containers(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out = append(out, "container "+strings.Join(c.Names, ","))
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: d.filter()})
	if err != nil {
		return nil, err
	}
	for _, n := range nets.Items {
		out = append(out, "network "+n.Name)
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: d.filter()})
	if err != nil {
		return nil, err
	}
	for _, v := range vols.Items {
		out = append(out, "volume "+v.Name)
	}
	return out, nil
}

func (d *Driver) filter() client.Filters {
	return make(client.Filters).Add("label", LabelStack+"="+d.opts.ID)
}

func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

var (
	_ stack.Driver       = (*Driver)(nil)
	_ stack.Configurable = (*Driver)(nil)
	_ stack.Auditor      = (*Driver)(nil)
)
