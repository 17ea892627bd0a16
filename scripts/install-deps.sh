#!/usr/bin/env bash
# Installs every build, test and run dependency from Debian's packages and the npm registry.
# Idempotent: packages already present are skipped, so `make dev` and `make test` can call it
# every time at almost no cost.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config clang-format clang libclang-rt-14-dev
  nlohmann-json3-dev libyaml-cpp-dev libboost-dev libboost-program-options-dev
  libspdlog-dev libfmt-dev prometheus-cpp-dev libcurl4-openssl-dev libssl-dev zlib1g-dev libre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-kubernetes python3-yaml python3-jsonschema
  chromium nodejs npm
  openssl curl ca-certificates procps jq
  wrk nginx-light linux-perf gdb
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from the machine image rather than Debian: accept any working copy.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi
if ((${#missing[@]})); then
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Go builds the pinned Kubernetes control plane for the end-to-end tests (scripts/cluster); it
# comes with this kind of machine (Debian's golang is too old for Kubernetes 1.36).
if ! command -v go >/dev/null; then
  echo "install-deps: go is missing; scripts/cluster needs Go 1.26 to build the test cluster" >&2
fi
if ! command -v kubectl >/dev/null; then
  echo "install-deps: kubectl is missing; it is expected on every machine (see README)" >&2
fi

# Front-end test packages (playwright-core drives Debian's Chromium; it downloads no browser).
if [[ -f tests/browser/package.json ]]; then
  if [[ ! -d tests/browser/node_modules/playwright-core ]]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
echo "install-deps: ok"
