#!/usr/bin/env bash
# Sets up camfan on a fresh Debian/Ubuntu machine; safe to run again (it skips what is already there).
#   system packages: libopencv-dev (capture), redis-server (the bus), and for tests chromium, firefox-esr, ffmpeg, nginx,
#   iproute2 (ip and tc for the fleet on network namespaces), prometheus (promtool checks deploy/prometheus; its server is disabled)
#   npm ci with @u4/opencv4nodejs built against the system OpenCV (never downloads OpenCV)
#   TypeScript build into dist/
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(libopencv-dev redis-server chromium firefox-esr ffmpeg nginx openssl iproute2 prometheus pkg-config python3 make g++)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian ships promtool only in the prometheus package, which also installs the Prometheus server and
  # enables (and, where services may start, starts) it on :9090. camfan needs the tool, not a server: one
  # that this run installed is stopped and disabled (a Prometheus that was there before is left alone).
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    echo "setup: prometheus was installed for promtool: stopping and disabling its server"
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now prometheus.service >/dev/null 2>&1
    else
      $SUDO service prometheus stop >/dev/null 2>&1 || true # not running: nothing to stop
      if command -v systemctl >/dev/null; then
        $SUDO systemctl disable prometheus.service >/dev/null 2>&1 # also the SysV links, without a running systemd
      else
        $SUDO update-rc.d prometheus disable >/dev/null 2>&1
      fi
    fi
  fi
else
  echo "setup: system packages present"
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" != "20" ]; then
  echo "setup: camfan needs Node.js 20 (found $(node --version 2>/dev/null || echo none)): the uWebSockets.js binary is built for its ABI" >&2
  exit 1
fi

# Reinstall node_modules only when package-lock.json changed since the last install (the OpenCV
# binding takes minutes to compile).
stamp=node_modules/.camfan-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node ]; then
  echo "setup: node_modules up to date"
else
  echo "setup: npm ci (compiles the OpenCV binding against the system OpenCV: a few minutes)"
  OPENCV4NODEJS_DISABLE_AUTOBUILD=1 JOBS=max npm ci --no-audit --no-fund
  if [ ! -f node_modules/@u4/opencv4nodejs/build/Release/opencv4nodejs.node ]; then
    echo "setup: the OpenCV binding was not built (npm ran no install script for @u4/opencv4nodejs?); see the npm output above" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

npm run --silent build
echo "setup: done"
