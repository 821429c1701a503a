# Reprise build entry points. `make demo` and `make test` are the two set-up
# commands the README promises; everything they need is fetched here.
GO        ?= go
BIN       := bin
TOOLS     := $(CURDIR)/.bin
PKGS      := ./...
FUZZTIME  ?= 10s

PROTOC_GEN_GO      := $(TOOLS)/protoc-gen-go
PROTOC_GEN_GO_GRPC := $(TOOLS)/protoc-gen-go-grpc
STATICCHECK        := $(TOOLS)/staticcheck

.PHONY: services-race all build test test-short test-memory fuzz demo lint bench generate images clean

all: build

build:
	$(GO) build -o $(BIN)/reprise ./cmd/reprise

test:
	$(GO) test -race -count=1 $(PKGS)

# The 1,000,000-exchange flat-memory check; slow, and meaningless under -race.
test-memory:
	$(GO) test -count=1 -run TestLargeFileFlatMemory -v ./harness/recording/

test-short:
	$(GO) test -short -count=1 $(PKGS)

# Each decoder of untrusted input gets a short, bounded fuzz run.
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

demo: build
	./$(BIN)/reprise demo

lint: $(STATICCHECK)
	$(GO) vet $(PKGS)
	$(STATICCHECK) $(PKGS)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./harness/recording/...
	./bench/proxy.sh
	./bench/replay.sh

# The stack's services built with the race detector; run them with
# `reprise stack up --bin-dir bin/race`.
services-race:
	$(GO) build -race -o bin/race/ ./compose/cmd/...

# Build the stack's images locally (no registry needed): our services FROM
# scratch, and postgres:15 and prom/prometheus:v2.42.0 stand-ins assembled
# from Debian packages. Idempotent and cached.
images:
	./scripts/images.sh

generate: $(PROTOC_GEN_GO) $(PROTOC_GEN_GO_GRPC)
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler"; exit 1; }
	PATH=$(TOOLS):$$PATH protoc --go_out=. --go_opt=paths=source_relative \
		harness/recording/rprpb/recording.proto
	PATH=$(TOOLS):$$PATH protoc --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		internal/testproto/echo/echo.proto
	PATH=$(TOOLS):$$PATH protoc --go_out=. --go_opt=paths=source_relative \
		--go-grpc_out=. --go-grpc_opt=paths=source_relative \
		compose/proto/platform/platform.proto
	$(GO) generate ./scenarios

$(PROTOC_GEN_GO):
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
$(PROTOC_GEN_GO_GRPC):
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
$(STATICCHECK):
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

clean:
	rm -rf $(BIN)
