"""Re-fetch the vendored plotly.js bundle from the npm registry and check it byte for byte.

    python tools/plotly/vendor.py            check (make plotly-check): exit 1 on any difference
    python tools/plotly/vendor.py --update   copy the locked package's files into article/vendor/plotly/

Why vendored: the file must be in the wheel (exporters/resources.py ships article/), and `make site`
must not need npm. Reproducible: tools/plotly/package-lock.json pins the package and its sha512
(checked by `npm ci`); article/vendor/plotly/VENDOR.json records the file's sha256, which the build
checks too (exporters/site.py).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
VENDOR = ROOT / "article" / "vendor" / "plotly"
FILES = ("plotly-cartesian.min.js", "LICENSE")


def fetched() -> Path:
    """`npm ci` from the committed lock; the package folder it installs."""
    lock = json.loads((HERE / "package-lock.json").read_text())
    (name,) = lock["packages"][""]["dependencies"]
    subprocess.run(["npm", "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel=error"], check=True)
    return HERE / "node_modules" / name


def main(argv: list[str]) -> int:
    pkg = fetched()
    meta = json.loads((pkg / "package.json").read_text())
    if "--update" in argv:
        for f in FILES:
            (VENDOR / f).write_bytes((pkg / f).read_bytes())
        record = json.loads((VENDOR / "VENDOR.json").read_text())
        record.update(package=meta["name"], version=meta["version"], file=FILES[0],
                      sha256=hashlib.sha256((VENDOR / FILES[0]).read_bytes()).hexdigest())
        (VENDOR / "VENDOR.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"vendored {meta['name']}@{meta['version']} into {VENDOR.relative_to(ROOT)}")
        return 0
    record = json.loads((VENDOR / "VENDOR.json").read_text())
    bad = [f for f in FILES if (pkg / f).read_bytes() != (VENDOR / f).read_bytes()]
    if (record["package"], record["version"]) != (meta["name"], meta["version"]):
        bad.append(f"VENDOR.json names {record['package']}@{record['version']}, the lock {meta['name']}@{meta['version']}")
    if hashlib.sha256((VENDOR / FILES[0]).read_bytes()).hexdigest() != record["sha256"]:
        bad.append("VENDOR.json sha256")
    if bad:
        print(f"article/vendor/plotly differs from {meta['name']}@{meta['version']}: {', '.join(bad)}; "
              "run python tools/plotly/vendor.py --update", file=sys.stderr)
        return 1
    print(f"article/vendor/plotly: identical to {meta['name']}@{meta['version']} from the registry")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
