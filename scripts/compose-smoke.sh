#!/usr/bin/env bash
# Brings compose/docker-compose.yml up with docker-compose (or the compose
# plugin), waits for the gateway, logs in and lists items through it, checks
# that Prometheus scrapes every service, then removes everything. Needs the
# images from `make images`.
set -euo pipefail
cd "$(dirname "$0")/../compose"
if docker compose version >/dev/null 2>&1; then dc=(docker compose); else dc=(docker-compose); fi
project=reprise-smoke
down() { "${dc[@]}" -p "$project" -f docker-compose.yml down -v --remove-orphans >/dev/null 2>&1 || true; }
trap down EXIT
down
"${dc[@]}" -p "$project" -f docker-compose.yml up -d
gw=http://127.0.0.1:8080
for i in $(seq 1 60); do
  if curl -fsS "$gw/readyz" >/dev/null 2>&1; then break; fi
  [[ $i == 60 ]] && { echo "gateway not ready after 60s"; "${dc[@]}" -p "$project" -f docker-compose.yml ps; exit 1; }
  sleep 1 # polling containers that start on their own schedule
done
# The gateway is ready before every service behind it is: a 503 on the
# first calls means "not yet", so the round is retried for a bounded time.
round() {
  local token
  token=$(curl -fsS -XPOST "$gw/v1/login" -d '{"user":"smoke","password":"x"}' | sed 's/.*"token":"\([^"]*\)".*/\1/') &&
    curl -fsS -H "Authorization: Bearer $token" "$gw/v1/items" | grep -q '"items"' &&
    curl -fsS -XPOST -H "Authorization: Bearer $token" "$gw/v1/items/1/buy" | grep -q '"order_id"'
}
for i in $(seq 1 30); do
  if round; then break; fi
  [[ $i == 30 ]] && { echo "login, items and buy still failing after 30 tries"; "${dc[@]}" -p "$project" -f docker-compose.yml logs --tail 20; exit 1; }
  sleep 1 # the services behind the gateway are still starting
done
for i in $(seq 1 30); do
  up=$(curl -fsS 'http://127.0.0.1:9090/api/v1/query?query=sum(up)' | sed -n 's/.*"value":\[[^,]*,"\([0-9]*\)".*/\1/p')
  [[ ${up:-0} -ge 5 ]] && break
  [[ $i == 30 ]] && { echo "prometheus sees ${up:-0} targets up, want 5"; exit 1; }
  sleep 1
done
echo "compose smoke: gateway served login, items and a buy; prometheus scrapes $up targets"
