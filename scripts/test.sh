#!/usr/bin/env bash
# The whole test suite: installs what the tests run against (a real registry,
# skopeo, htpasswd, podman and containerd for the engine tests, chromium for the pictures, redis-server for fleet, tmux for explore) when missing, then format, lints, tests, bench build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v podman >/dev/null || need+=(podman)
command -v containerd >/dev/null || need+=(containerd)
command -v chromium >/dev/null || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --lib --bins --tests
cargo bench --no-run
