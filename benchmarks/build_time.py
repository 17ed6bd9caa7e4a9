"""Build time of the default article: cold, rebuilt with nothing changed, and forced on a warm cache.

    python benchmarks/build_time.py             (also part of `make bench`: measure() -> dict)

Each build is `python -m exporters build` in a fresh process, as `make site` runs it, into a
temporary site with a temporary cache (never the repository's):
- `cold`: an empty cache (embeddings, projections and generated images all computed; the numba
  kernels' on-disk cache in site-packages, written at install by `make` (projection.compile_kernels)
  or on a venv's first use, counts as installed, as .pyc files do; the two NN-descent kernels numba
  cannot cache compile in every process that runs UMAP above 4,096 points);
- `noop`: the same command again: nothing changed, so it must say so and rebuild nothing;
- `warm`: `--force` on the warm cache: every page and figure file written and assembled again,
  the floor that the cold build's computations sit on (the ratio cold / warm says what they cost).
Wall seconds are the figures; CPU seconds (user + system of the build and its worker) are reported
beside them with the load average, since on a shared machine the wall time says as much about the
neighbours as about the build. Targets (issue 11): cold <= 180 s on 2 cores, no-op < 5 s.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLD_TARGET_S, NOOP_TARGET_S = 180.0, 5.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _build(config: Path, site: Path, cache: Path, *extra: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the build and its worker, its last line of output)."""
    env = dict(os.environ, EXPORTERS_PROGRESS="0", EXPORTERS_CACHE=str(cache))
    t, c = time.perf_counter(), _cpu()
    p = subprocess.run([sys.executable, "-m", "exporters", "build", "--config", str(config), "--site", str(site),
                        "--cache", str(cache), *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    sec, cpu = time.perf_counter() - t, _cpu() - c
    if p.returncode != 0:
        raise RuntimeError(f"build failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return sec, cpu, p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""


def measure(config: Path | None = None) -> dict:
    """{cold, noop, warm: {seconds, said}, targets, ratios, cpus} for one configuration."""
    config = Path(config or ROOT / "configs" / "default.toml")
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        tmp = Path(tmp)
        site, cache = tmp / "site", tmp / "cache"
        out: dict = {"config": str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config),
                     "cpus": os.cpu_count(), "load_before": round(os.getloadavg()[0], 2)}
        for name, extra in (("cold", ()), ("noop", ()), ("warm", ("--force",))):
            sec, cpu, said = _build(config, site, cache, *extra)
            out[name] = {"seconds": round(sec, 2), "cpu_seconds": round(cpu, 2), "said": said}
            print(f"build {name:5s} {sec:8.2f} s   cpu {cpu:8.2f} s   {said}", file=sys.stderr)
        out["load_after"] = round(os.getloadavg()[0], 2)
    cold, noop, warm = (out[k]["seconds"] for k in ("cold", "noop", "warm"))
    out["targets"] = {"cold_s": COLD_TARGET_S, "noop_s": NOOP_TARGET_S}
    out["meets"] = {"cold": cold <= COLD_TARGET_S, "noop": noop < NOOP_TARGET_S and "up to date" in out["noop"]["said"]}
    out["ratios"] = {"noop_over_cold": round(noop / cold, 4), "cold_over_warm": round(cold / warm, 2)}
    return out


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]) if len(sys.argv) > 1 else None), indent=1))
