#!/usr/bin/env bash
# A rolling deploy of the gateways across hosts, one host at a time:
#   scripts/rolling-deploy.sh gw1.example.com gw2.example.com …
# On each host (over ssh, in CAMFAN_DIR) it runs `npx pm2 reload camfan-gateway`: pm2 starts a new process
# per instance on the same port (SO_REUSEPORT) and, once it has said ready, stops the old one, which tells
# its /ws pages to move (they reconnect through the balancer first, then close the old socket) and ends its
# <img> streams at a part boundary. The next host is started only when this one's /readyz answers 200, so
# at most one host is ever mid-reload and the others keep the fleet's capacity.
# The same order, replayed on an emulated fleet (bench/fleet/rolling.ts; BENCHMARKS.md, Fleet): no /ws viewer
# without a frame for more than ~150 ms, 0 refused. Settings: CAMFAN_DIR (default camfan, relative to the ssh user's home),
# PORT (default 8080), CAMFAN_SSH (default ssh), CAMFAN_RELOAD (default: the pm2 reload above; put
# `git pull --ff-only && npm ci && npm run build && ` in front of it to deploy new code).
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 HOST [HOST …]" >&2; exit 64; }
dir=${CAMFAN_DIR:-camfan}
port=${PORT:-8080}
ssh=${CAMFAN_SSH:-ssh}
reload=${CAMFAN_RELOAD:-npx pm2 reload camfan-gateway}
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
