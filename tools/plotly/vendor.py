"""Rebuild the vendored plotly.js partial bundle from the npm registry and check it byte for byte.

    python tools/plotly/vendor.py            check (make plotly-check): exit 1 on any difference
    python tools/plotly/vendor.py --update   write the rebuilt bundle and its sha256 into article/vendor/plotly/

Why vendored: the file must be in the wheel (exporters/resources.py ships article/), and `make site`
must not need npm or node. Reproducible: tools/plotly/package-lock.json pins plotly.js, esbuild and
their dependencies with their sha512 (checked by `npm ci`), tools/plotly/build.mjs is the whole recipe
(the trace types come from VENDOR.json), and VENDOR.json records the file's sha256, which the build
checks too (exporters/site.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENDOR = ROOT / "article" / "vendor" / "plotly"


def rebuilt(out: Path) -> None:
    """`npm ci` from the committed lock, then tools/plotly/build.mjs into `out`."""
    subprocess.run(["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"], check=True)
    subprocess.run(["node", str(HERE / "build.mjs"), str(out)], check=True)


def main(argv: list[str]) -> int:
    record = json.loads((VENDOR / "VENDOR.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / record["file"]
        rebuilt(out)
        data = out.read_bytes()
    licence = (HERE / "node_modules" / "plotly.js" / "LICENSE").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if "--update" in argv:
        (VENDOR / record["file"]).write_bytes(data)
        (VENDOR / "LICENSE").write_bytes(licence)
        record["sha256"] = digest
        (VENDOR / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"vendored {record['file']} ({len(data)} bytes, sha256 {digest[:12]}...)")
        return 0
    bad = []
    if (VENDOR / record["file"]).read_bytes() != data:
        bad.append(f"{record['file']} (rebuilt sha256 {digest[:12]}...)")
    if (VENDOR / "LICENSE").read_bytes() != licence:
        bad.append("LICENSE")
    if digest != record["sha256"]:
        bad.append("the sha256 in VENDOR.json")
    if bad:
        print(f"article/vendor/plotly differs from the rebuild: {', '.join(bad)}; "
              "run python tools/plotly/vendor.py --update", file=sys.stderr)
        return 1
    print(f"article/vendor/plotly/{record['file']}: identical to the rebuild from tools/plotly's lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
