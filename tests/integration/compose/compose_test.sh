#!/usr/bin/env bash
# compose.yaml and the Dockerfile, checked without a container engine (none runs in CI): the
# compose file is valid for docker-compose, every roombus setting in it and in the Dockerfile is one
# `roombus serve` knows and accepts, and the image's runtime packages exist on Debian 12.
# Usage: compose_test.sh <source dir> <roombus binary>
set -euo pipefail
root=$1
roombus=$2
fail() { echo "compose_test: $*" >&2; exit 1; }

config=$(docker-compose --project-directory "$root" -f "$root/compose.yaml" config) ||
  fail "docker-compose refuses compose.yaml"

services=$(python3 -c 'import sys, yaml; print(" ".join(sorted(yaml.safe_load(sys.stdin)["services"])))' <<<"$config")
[ "$services" = "kafka redis roombus" ] || fail "services are '$services', expected kafka redis roombus"

# KEY=VALUE lines: the roombus service's environment, then the Dockerfile's ENV settings.
mapfile -t settings < <(python3 -c '
import sys, yaml
service = yaml.safe_load(sys.stdin)["services"]["roombus"]
for key, value in (service.get("environment") or {}).items():
    print(f"{key}={value}")
for key in ("volumes", "healthcheck", "depends_on"):
    if key not in service:
        sys.exit(f"the roombus service has no {key}")
' <<<"$config")
mapfile -t -O "${#settings[@]}" settings < <(grep -o 'ROOMBUS_[A-Z_]*=[^ \\]*' "$root/Dockerfile" | sort -u)
[ "${#settings[@]}" -gt 3 ] || fail "found only ${#settings[@]} settings"

help=$("$roombus" serve --help)
for setting in "${settings[@]}"; do
  name=${setting%%=*}
  [[ $name == ROOMBUS_* ]] || fail "$name is not a roombus setting"
  grep -q "(Env:$name)" <<<"$help" || fail "roombus serve does not know $name"
done

# The whole set, as the container would see it, passes roombus's own validation.
env -i PATH="$PATH" "${settings[@]}" "$roombus" serve --check-config ||
  fail "roombus serve --check-config refuses the compose settings: ${settings[*]}"

# The runtime image installs the shared libraries of the -dev packages install-deps has put here.
grep -q 'scripts/install-deps --build' "$root/Dockerfile" || fail "the Dockerfile does not build with scripts/install-deps"
runtime=$(sed -n '/^FROM debian:bookworm-slim$/,$p' "$root/Dockerfile" | grep -v '^#' | tr '\n' ' ' |
  sed 's/.*--no-install-recommends//; s/&&.*//' | tr -s ' \\' '\n' | grep -E '^lib' | sort -u)
[ -n "$runtime" ] || fail "no runtime packages found in the Dockerfile"
for package in $runtime; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
    fail "runtime package $package is not the one the build uses (not installed here)"
done
echo "compose_test: compose.yaml and Dockerfile are consistent with roombus (${#settings[@]} settings, runtime: $(echo $runtime))"
