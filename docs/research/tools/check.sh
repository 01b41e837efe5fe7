#!/usr/bin/env bash
# Dry run: would `dca add --from FILE` accept this record? Runs against a throwaway copy of the
# package, so the real dataset is never touched. Usage: bash docs/research/tools/check.sh FILE.yaml ...
root="$(cd "$(dirname "$0")/../../.." && pwd)"
rc=0
for f in "$@"; do
  tmp=$(mktemp -d)
  cp -r "$root/datapackage.json" "$root/dataset" "$root/schema" "$tmp"/
  if out=$("$root/.venv/bin/dca" add --from "$f" "$tmp" 2>&1); then
    echo "OK   $f: $(echo "$out" | tail -1)"
  else
    echo "FAIL $f:"; echo "$out" | sed 's/^/    /'; rc=1
  fi
  rm -rf "$tmp"
done
exit $rc
