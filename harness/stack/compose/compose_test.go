package compose

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	dcontainer "github.com/moby/moby/api/types/container"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/reprise-dev/reprise/harness/stack"
	"github.com/reprise-dev/reprise/harness/stack/stacktest"
)

// requireEngine skips when no Docker Engine answers. When one does, every
// later problem (a missing image included) is a failure, not a skip.
func requireEngine(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "info").Run(); err != nil {
		t.Skipf("no Docker Engine answers `docker info` (%v): the compose driver is not tested", err)
	}
}

func TestSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the stack in Docker")
	}
	requireEngine(t)
	stacktest.Run(t, func(t *testing.T) stack.Driver {
		d := New(stack.ID(fmt.Sprintf("test-%d", os.Getpid())), stack.StopTimeout(5*time.Second))
		t.Cleanup(func() { d.Close() })
		return d
	})
}

// A missing image fails Up before anything is created, naming the image.
func TestMissingImageCreatesNothing(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	d := New(stack.ID(fmt.Sprintf("missing-%d", os.Getpid())))
	defer d.Close()
	// Point one service at an image nobody built, via a tag that cannot exist.
	err := d.checkImages(ctx, []container{{service: "x", image: "reprise/does-not-exist:never"}})
	require.ErrorIs(t, err, stack.ErrImageMissing)
	assert.Contains(t, err.Error(), "reprise/does-not-exist:never")
	left, err := d.Leftovers(ctx)
	require.NoError(t, err)
	assert.Empty(t, left)
}

func TestDownWithoutUp(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	d := New(stack.ID(fmt.Sprintf("nothing-%d", os.Getpid())))
	defer d.Close()
	require.NoError(t, d.Down(ctx))
	st, err := d.Status(ctx)
	require.NoError(t, err)
	for _, s := range st {
		assert.Equal(t, stack.StateMissing, s.State, s.Service)
	}
	_, err = d.Logs(ctx, "gateway")
	assert.ErrorIs(t, err, stack.ErrNotUp)
	assert.ErrorIs(t, d.Fault(ctx, "toaster", stack.FaultKill), stack.ErrUnknownService)
	assert.Empty(t, d.Endpoints())
}

func TestPrometheusConfigMatchesFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "compose", "prometheus", "prometheus.yml"))
	require.NoError(t, err)
	assert.Equal(t, PrometheusConfig(), string(data), "regenerate compose/prometheus/prometheus.yml from PrometheusConfig")
}

func TestTopology(t *testing.T) {
	topo := topology(map[string]string{"FAULT_BUY_RACE": "1"}, nil)
	require.Len(t, topo, len(stack.Services)+2)
	assert.Equal(t, "postgres", topo[0].service, "the database starts first")
	assert.Equal(t, "prometheus", topo[len(topo)-1].service)
	byName := map[string]container{}
	for _, c := range topo {
		byName[c.service] = c
	}
	assert.Equal(t, "reprise/gateway:dev", byName["gateway"].image)
	assert.Equal(t, "marketplace:9090", byName["gateway"].env["MARKETPLACE_ADDR"])
	assert.Contains(t, byName["indexer"].env["INDEXER_DB"], "postgres://reprise:reprise@postgres:5432/indexer")
	assert.Equal(t, "1", byName["marketplace"].env["FAULT_BUY_RACE"])
	assert.NotContains(t, byName["gateway"].ports, grpcPort)
}

func TestConvertStats(t *testing.T) {
	var s dcontainer.StatsResponse
	s.CPUStats.CPUUsage.TotalUsage = 3e9
	s.PreCPUStats.CPUUsage.TotalUsage = 2e9
	s.CPUStats.SystemUsage = 20e9
	s.PreCPUStats.SystemUsage = 10e9
	s.CPUStats.OnlineCPUs = 2
	s.MemoryStats.Usage = 100 << 20
	s.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 40 << 20}
	s.Networks = map[string]dcontainer.NetworkStats{"eth0": {RxBytes: 10, TxBytes: 20}, "eth1": {RxBytes: 1, TxBytes: 2}}
	st := convertStats(s)
	assert.InDelta(t, 20.0, st.CPUPercent, 1e-9, "1s of 10s system time on 2 CPUs")
	assert.InDelta(t, 3.0, st.CPUSeconds, 1e-9)
	assert.Equal(t, uint64(60<<20), st.MemoryBytes)
	assert.True(t, st.HasNetwork)
	assert.Equal(t, uint64(11), st.NetRxBytes)
	assert.Equal(t, uint64(22), st.NetTxBytes)
}

// The docker-compose.yml for users with a registry runs the same topology
// as the driver: same images, same wiring, the same Prometheus file.
func TestDockerComposeFileMatchesTopology(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "compose", "docker-compose.yml"))
	require.NoError(t, err)
	var file struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Healthcheck *struct{}         `yaml:"healthcheck"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
		Networks map[string]struct {
			Name string `yaml:"name"`
		} `yaml:"networks"`
	}
	require.NoError(t, yaml.Unmarshal(data, &file))
	require.Len(t, file.Networks, 1, "one named network")
	for _, c := range topology(nil, nil) {
		svc, ok := file.Services[c.service]
		require.True(t, ok, "%s missing from docker-compose.yml", c.service)
		assert.Equal(t, c.image, svc.Image, c.service)
		for k, v := range c.env {
			if k == "HTTP_ADDR" || k == "GRPC_ADDR" || k == "LOG_LEVEL" {
				continue // set through the shared anchor
			}
			assert.Equal(t, v, svc.Environment[k], "%s: %s", c.service, k)
		}
		if c.service != "prometheus" {
			assert.NotNil(t, svc.Healthcheck, "%s has a healthcheck", c.service)
		}
	}
	assert.Contains(t, file.Services["prometheus"].Volumes, "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro")
}
