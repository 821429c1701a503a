#!/usr/bin/env bash
# Build the reference stack's images with no registry: our five services
# FROM scratch, and local stand-ins for postgres:15 and
# prom/prometheus:v2.42.0 assembled from Debian packages. Idempotent and
# cached: an image whose dev.reprise.input-hash label matches the hash of its
# build context is not rebuilt.
#
#   scripts/images.sh                 # everything
#   scripts/images.sh gateway postgres  # a subset
#   FORCE=1 scripts/images.sh          # rebuild even when cached
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${REPRISE_IMAGES_WORK:-${XDG_CACHE_HOME:-$HOME/.cache}/reprise/images}
SERVICES=(sequencer indexer marketplace missions gateway)
PGBIN=/usr/lib/postgresql/15/bin
HASH_LABEL=dev.reprise.input-hash

log() { echo "images: $*" >&2; }

apt_install() {
	log "apt-get install $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# hash_context DIR: a hash of every path, mode and content under DIR.
hash_context() {
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		xargs -0 stat -c '%n %a %F' && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
		sha256sum | cut -c1-32
}

# build TAG DOCKERFILE CONTEXT [docker build args...]
build() {
	local tag=$1 dockerfile=$2 ctx=$3
	shift 3
	cp "$dockerfile" "$ctx/Dockerfile"
	local hash have
	hash=$( (hash_context "$ctx"; echo "$*") | sha256sum | cut -c1-32)
	have=$(docker image inspect -f "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$tag" 2>/dev/null || true)
	if [[ -z ${FORCE:-} && $have == "$hash" ]]; then
		log "$tag up to date ($hash)"
		return
	fi
	log "building $tag ($hash)"
	# The legacy builder needs no buildx plugin; its deprecation notice is
	# noise, so output is shown only when the build fails.
	local out
	if ! out=$(DOCKER_BUILDKIT=0 docker build -q --label "$HASH_LABEL=$hash" -t "$tag" "$@" "$ctx" 2>&1); then
		echo "$out" >&2
		log "building $tag failed"
		exit 1
	fi
}

# copy_libs DEST FILE...: the shared libraries FILEs need (and the dynamic
# loader), copied to the same paths under DEST.
copy_libs() {
	local dest=$1
	shift
	for f in "$@"; do ldd "$f" 2>/dev/null || true; done |
		awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
		while read -r lib; do cp -L --parents "$lib" "$dest"; done
}

# base_rootfs DIR: what every image shares: users, /tmp, the health check.
base_rootfs() {
	local r=$1
	mkdir -p "$r/etc" "$r/tmp" "$r/usr/local/bin"
	chmod 1777 "$r/tmp"
	printf 'root:x:0:0:root:/root:/sbin/nologin\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$r/etc/passwd"
	printf 'root:x:0:\npostgres:x:999:\nnogroup:x:65534:\n' >"$r/etc/group"
	cp "$WORK/healthcheck" "$r/usr/local/bin/healthcheck"
	ln -sf /usr/local/bin/healthcheck "$r/healthcheck"
}

gobuild() { # OUT PKG
	(cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$1" "$2")
}

services() {
	local ctx=$WORK/service
	rm -rf "$ctx" && mkdir -p "$ctx"
	base_rootfs "$ctx/rootfs"
	local s
	for s in "$@"; do
		gobuild "$ctx/$s" "./compose/cmd/$s"
	done
	for s in "$@"; do
		build "reprise/$s:dev" "$ROOT/compose/images/Dockerfile.service" "$ctx" --build-arg "SERVICE=$s"
	done
}

postgres_image() {
	[[ -x $PGBIN/postgres ]] || apt_install postgresql-15
	local ctx=$WORK/postgres r
	r=$ctx/rootfs
	rm -rf "$ctx" && mkdir -p "$r" "$ctx/pgroot/data"
	chmod 700 "$ctx/pgroot/data"
	base_rootfs "$r"
	gobuild "$r/usr/local/bin/pgentry" ./compose/images/pgentry
	mkdir -p "$r$PGBIN" "$r/usr/lib/postgresql/15/lib" "$r/usr/share/postgresql" "$r/bin" "$r/usr/share"
	cp "$PGBIN"/{postgres,initdb,pg_ctl,pg_isready} "$r$PGBIN/"
	# Server modules initdb and the server load (plpgsql, snowball, ...);
	# the JIT needs LLVM and is left out (jit is off without it).
	find /usr/lib/postgresql/15/lib -maxdepth 1 -name '*.so' ! -name 'llvmjit*' -exec cp {} "$r/usr/lib/postgresql/15/lib/" \;
	cp -r /usr/share/postgresql/15 "$r/usr/share/postgresql/"
	rm -rf "$r/usr/share/postgresql/15/man"
	cp -r /usr/share/zoneinfo "$r/usr/share/"
	# initdb runs the bootstrap backend through popen(), hence a shell.
	cp /bin/dash "$r/bin/sh"
	copy_libs "$r" "$r$PGBIN"/* "$r"/usr/lib/postgresql/15/lib/*.so /bin/dash
	build postgres:15 "$ROOT/compose/images/Dockerfile.postgres" "$ctx"
}

prometheus_image() {
	[[ -x /usr/bin/prometheus ]] || apt_install prometheus
	local ctx=$WORK/prometheus r
	r=$ctx/rootfs
	rm -rf "$ctx" && mkdir -p "$r/bin" "$r/etc/prometheus" "$ctx/promdata"
	base_rootfs "$r"
	cp /usr/bin/prometheus "$r/bin/prometheus"
	cp "$ROOT/compose/prometheus/prometheus.yml" "$r/etc/prometheus/prometheus.yml"
	copy_libs "$r" /usr/bin/prometheus
	build prom/prometheus:v2.42.0 "$ROOT/compose/images/Dockerfile.prometheus" "$ctx"
}

main() {
	command -v docker >/dev/null || { log "docker is required"; exit 1; }
	command -v ldd >/dev/null || apt_install libc-bin
	mkdir -p "$WORK"
	gobuild "$WORK/healthcheck" ./compose/images/healthcheck
	local want=("$@") svcs=() t
	[[ ${#want[@]} -gt 0 ]] || want=("${SERVICES[@]}" postgres prometheus)
	for t in "${want[@]}"; do
		case $t in
		postgres) postgres_image ;;
		prometheus) prometheus_image ;;
		sequencer | indexer | marketplace | missions | gateway) svcs+=("$t") ;;
		*) log "unknown image $t (want ${SERVICES[*]} postgres prometheus)"; exit 2 ;;
		esac
	done
	[[ ${#svcs[@]} -eq 0 ]] || services "${svcs[@]}"
}

main "$@"
