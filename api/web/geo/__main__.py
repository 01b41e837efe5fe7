"""``python -m api.web.geo PACKAGE_DIR``: decode world-atlas's TopoJSON (unpacked npm tarball) into world.json."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import WORLD, convert


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m api.web.geo DIR  (DIR: the unpacked world-atlas npm package)", file=sys.stderr)
        return 2
    pkg = Path(argv[0])
    try:
        small = json.loads((pkg / "countries-110m.json").read_text(encoding="utf-8"))
        medium = json.loads((pkg / "countries-50m.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        print(f"{pkg}: not an unpacked world-atlas package ({e}); run scripts/install_geometry.sh", file=sys.stderr)
        return 1
    doc = convert(small, medium)
    tmp = WORLD.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
    tmp.replace(WORLD)
    print(f"{WORLD}: {len(doc['shapes'])} states from {doc['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
