package compose

import (
	"fmt"
	"strings"

	"github.com/reprise-dev/reprise/harness/stack"
)

// Labels put on everything the driver creates.
const (
	LabelStack   = "dev.reprise.stack"
	LabelService = "dev.reprise.service"
)

// Images the stack runs; the services' own are built by `make images`, the
// others are local stand-ins carrying the standard tags.
const (
	PostgresImage   = "postgres:15"
	PrometheusImage = "prom/prometheus:v2.42.0"
)

// ServiceImage is the image of one reference service.
func ServiceImage(service string) string { return "reprise/" + service + ":dev" }

// Ports inside the containers (platform defaults).
const (
	httpPort = "8080/tcp"
	grpcPort = "9090/tcp"
	pgPort   = "5432/tcp"
	promPort = "9090/tcp"
)

// Database credentials of the throwaway PostgreSQL.
const (
	pgUser     = "reprise"
	pgPassword = "reprise"
	pgDB       = "indexer"
)

// container describes one container of the stack, in start order.
type container struct {
	service string
	image   string
	env     map[string]string
	ports   []string
	// readyPath is polled over the published HTTP port; empty means the
	// image's own HEALTHCHECK decides.
	readyPath string
	readyPort string
	files     map[string]string // path in the container → content
}

// topology lists the containers of the stack in dependency order.
func topology(o map[string]string, image func(service string) string) []container {
	if image == nil {
		image = ServiceImage
	}
	var out []container
	out = append(out, container{
		service: "postgres", image: PostgresImage, ports: []string{pgPort},
		env: map[string]string{"POSTGRES_USER": pgUser, "POSTGRES_PASSWORD": pgPassword, "POSTGRES_DB": pgDB},
	})
	for _, svc := range stack.Services {
		env := map[string]string{"HTTP_ADDR": ":8080", "LOG_LEVEL": "info"}
		ports := []string{httpPort}
		if svc.GRPC {
			env["GRPC_ADDR"] = ":9090"
			ports = append(ports, grpcPort)
		}
		for key, dep := range svc.Deps {
			env[key] = dep + ":9090"
		}
		switch svc.Name {
		case "indexer":
			env["INDEXER_DB"] = fmt.Sprintf("postgres://%s:%s@postgres:5432/%s?sslmode=disable", pgUser, pgPassword, pgDB)
		case "sequencer":
			// The container's own layer keeps the chain across a restart.
			env["SEQUENCER_DATA_DIR"] = SequencerDataDir
		}
		for k, v := range o {
			env[k] = v
		}
		out = append(out, container{service: svc.Name, image: image(svc.Name), env: env, ports: ports, readyPath: "/readyz", readyPort: httpPort})
	}
	out = append(out, container{
		service: "prometheus", image: PrometheusImage, ports: []string{promPort},
		readyPath: "/-/ready", readyPort: promPort,
		files: map[string]string{"/etc/prometheus/prometheus.yml": PrometheusConfig()},
	})
	return out
}

// SequencerDataDir is where the sequencer keeps its block log in its
// container: /tmp is the one directory the scratch image makes writable for
// its unprivileged user.
const SequencerDataDir = "/tmp/sequencer"

// PrometheusConfig is the scrape configuration of the stack: every service's
// /metrics every 5s, by its name on the stack network. It is the content of
// compose/prometheus/prometheus.yml (a test keeps the two equal).
func PrometheusConfig() string {
	var b strings.Builder
	b.WriteString(`# Generated from harness/stack/compose.PrometheusConfig; keep them equal
# (TestPrometheusConfigMatchesFile). Scrapes every reference service.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ["localhost:9090"]
`)
	for _, svc := range stack.Services {
		fmt.Fprintf(&b, "  - job_name: %s\n    static_configs:\n      - targets: [\"%s:8080\"]\n", svc.Name, svc.Name)
	}
	return b.String()
}
