#!/usr/bin/env bash
# A rolling deploy of the gateways across hosts, one host at a time:
#   scripts/rolling-deploy.sh gw1.example.com gw2.example.com …
# On each host (over ssh, in CAMFAN_DIR) it runs `npx pm2 reload camfan-gateway --parallel 1`: in fork mode
# pm2 stops one instance at a time (SIGTERM: it closes its listener, tells its /ws pages to move — they
# reconnect first, to the host's other instances on the port or through the balancer to other hosts, then
# close the old socket — and ends its <img> streams at a part boundary) and starts its successor on the same
# port once it has exited. A host needs 2 or more instances for its own viewers to stay on it meanwhile.
# The next host is started only when this one's /readyz answers 200, so at most one host is ever
# mid-reload and the others keep the fleet's capacity. The same order is measured on an emulated fleet
# (bench/fleet/rolling.ts; BENCHMARKS.md, Fleet: rolling deploy). Settings: CAMFAN_DIR (default camfan, relative to the ssh user's home),
# PORT (default 8080), CAMFAN_SSH (default ssh), CAMFAN_RELOAD (default: the pm2 reload above; put
# `git pull --ff-only && npm ci && npm run build && ` in front of it to deploy new code).
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 HOST [HOST …]" >&2; exit 64; }
dir=${CAMFAN_DIR:-camfan}
port=${PORT:-8080}
ssh=${CAMFAN_SSH:-ssh}
reload=${CAMFAN_RELOAD:-npx pm2 reload camfan-gateway --parallel 1}
for host in "$@"; do
  echo "rolling-deploy: $host: $reload"
  $ssh "$host" "cd $dir && $reload"
  for _ in $(seq 1 60); do
    if $ssh "$host" "curl -fsS -o /dev/null --max-time 2 http://127.0.0.1:$port/readyz"; then
      echo "rolling-deploy: $host ready"
      continue 2
    fi
    sleep 1
  done
  echo "rolling-deploy: $host not ready after 60 s; stopping here (the hosts after it are untouched)" >&2
  exit 1
done
