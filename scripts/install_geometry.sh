#!/usr/bin/env bash
# The world map's country shapes (api/web/geo/world.json), from the npm package world-atlas
# (Natural Earth boundaries as TopoJSON), pinned by version and SHA-256. Run by `make install`.
# `npm pack` fetches the tarball from the npm registry (nothing is installed into node_modules);
# Python decodes the TopoJSON (python -m api.web.geo). Idempotent: does nothing when world.json
# is there; after it has run once, the pages need no network.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
VERSION=2.0.2
SHA256=032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97
OUT=api/web/geo/world.json

if [ -s "$OUT" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install_geometry.sh: npm is missing (apt-get install npm); the home page will show no world map" >&2
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "world-atlas@$VERSION" >/dev/null)
tarball="$tmp/world-atlas-$VERSION.tgz"
echo "$SHA256  $tarball" | sha256sum -c --quiet -
tar -xzf "$tarball" -C "$tmp" package/countries-110m.json package/countries-50m.json package/LICENSE
"$PY" -m api.web.geo "$tmp/package"
