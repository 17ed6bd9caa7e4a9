"""The build's one piece of parallelism: the largest section's figure in a second process.

On two cores a build is two strands of work: the large section (embedding thousands of pairs with
every model, UMAP at 10,000 points: single-threaded, as seeded UMAP is) and everything else (the
100-pair sections' projections, clustering, page rendering). `export_world` starts the large
section's figure in a second Python process (`python -c`: never a fork, never a re-run of the
caller's main module) that writes into a scratch folder beside the export, while it renders the
other pages; a page that needs the figure is put off until the others are rendered, then takes the
worker's result: the data, the files it wrote (moved into the export; where both processes write
one, the bytes are equal), and the same embeddings loaded from the cache, so the provenance record
is the one a single process writes. The figure's slow work comes in pieces (`units`/`warm` of its module,
each filling the cache): the worker takes pieces from the start, and the main process, once its pages
are rendered, takes pieces from the end instead of waiting (`_share`), so on two cores neither sits idle
while the other works; the worker's `build` then finds every piece in the cache. The export is
byte-identical to a one-process build
(tests/test_parallel.py). If the worker fails, the page computes the figure itself, so an error
reads as it always does.

`EXPORTERS_JOBS=1` turns it off (one process, as before).
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ENV = "EXPORTERS_JOBS"
HEAVY = (("large", None),)   # (figure id, section) keys worth a process of their own
_THREADS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def jobs() -> int:
    """How many processes a build may use: $EXPORTERS_JOBS, else 2 when the machine has 2 cores or more."""
    raw = os.environ.get(ENV, "").strip()
    if raw:
        try:
            n = int(raw)
        except ValueError:
            from exporters.errors import UserError

            raise UserError(f"{ENV}={raw!r}: not a whole number; set it to 1 (one process) or 2") from None
        return max(1, n)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def _child() -> None:
    """The worker (`python -c`, never a fork or a re-run of the caller's main module): read the job
    from the scratch folder named in argv, build its keys there, leave (data, files, embeddings used)."""
    scratch = Path(sys.argv[1])
    config, cache_dir, keys = pickle.loads((scratch / "job.pickle").read_bytes())
    try:
        from exporters.figures import FIGURES
        from exporters.figures._context import FigureContext
        from exporters.world import World

        world = World(config, work_dir=Path(cache_dir))
        out = scratch / "out"
        out.mkdir()
        ctx = FigureContext(world, out, Path(cache_dir), dict(config.options or {}))
        results = {}
        for fid, section in keys:
            kwargs = {} if section is None else {"section": section}
            parent = os.getppid()
            _share(scratch, ctx, FIGURES[fid], section, front=True, alive=lambda: os.getppid() == parent)
            results[(fid, section)] = FIGURES[fid].build(ctx, **kwargs)
        result = ("ok", results, dict(ctx.written), sorted(world._embeddings))
    except BaseException as exc:  # noqa: BLE001 - any failure: the main process computes it itself
        result = ("failed", f"{type(exc).__name__}: {exc}", {}, [])
    tmp = scratch / "result.pickle.tmp"
    tmp.write_bytes(pickle.dumps(result))
    os.replace(tmp, scratch / "result.pickle")


def _share(scratch: Path, ctx: Any, module: Any, section: str | None, front: bool, alive: Any) -> None:
    """Take pieces of a figure's slow work (`module.units`, each filling the cache) until none is left, then
    wait for the pieces the other process took. A piece is taken by creating its claim file (O_EXCL: one
    process wins); the worker takes from the front of the list from its start, the main process from the
    back once its own pages are rendered, so neither waits while the other works. A piece whose process
    fails is marked done all the same: `build` then computes what the cache lacks, and raises its error.
    `alive()` says whether the other process still runs: nobody waits for a piece of a process that is gone."""
    if not hasattr(module, "units"):
        return
    sec = {} if section is None else {"section": section}
    units = module.units(ctx, **sec)
    claims, done = scratch / "claims", scratch / "done"
    claims.mkdir(parents=True, exist_ok=True)
    done.mkdir(parents=True, exist_ok=True)
    for i in (range(len(units)) if front else reversed(range(len(units)))):
        try:
            os.close(os.open(claims / str(i), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        try:
            module.warm(ctx, units[i], **sec)
        finally:
            (done / str(i)).touch()
    while not all((done / str(i)).exists() for i in range(len(units))):
        if not alive():
            return
        time.sleep(0.1)


class _OneThread:
    """One BLAS/OpenMP/torch thread in this process while the worker runs: two processes on two cores,
    each with a thread per core, spin against each other (a 200 x 512 SVD took 0.41 s instead of 0.026 s
    with OpenBLAS's two threads beside a busy core, measured here). Libraries loaded from now on start
    with one thread (the environment); those loaded already are limited through threadpoolctl."""

    def __init__(self) -> None:
        from threadpoolctl import threadpool_limits

        self._blas = threadpool_limits(limits=1)
        self._env = {k: os.environ.get(k) for k in _THREADS}
        os.environ.update({k: "1" for k in _THREADS})
        torch = sys.modules.get("torch")
        self._torch = torch.get_num_threads() if torch is not None else None
        if torch is not None:
            torch.set_num_threads(1)

    def restore(self) -> None:
        self._blas.restore_original_limits()
        for k, v in self._env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(self._torch or max(1, os.cpu_count() or 1))


class Offload:
    """A worker computing HEAVY keys of a build; `take(key)` waits for it and returns its result."""

    def __init__(self, world: Any, out_dir: Path, cache_dir: Path, keys: list):
        self.keys = set(keys)
        self.world = world
        self.out_dir = Path(out_dir)
        self.scratch = Path(tempfile.mkdtemp(prefix=".worker-", dir=self.out_dir.parent))
        self._result: tuple | None = None
        (self.scratch / "job.pickle").write_bytes(pickle.dumps((world.config, str(cache_dir), list(keys))))
        here = str(Path(__file__).resolve().parent.parent)    # this very package, whatever the cwd
        env = {**os.environ, **{k: "1" for k in _THREADS}, "EXPORTERS_PROGRESS": "0",
               "PYTHONPATH": os.pathsep.join([here, *filter(None, [os.environ.get("PYTHONPATH")])])}
        self._proc = subprocess.Popen([sys.executable, "-c", "from exporters.parallel import _child; _child()",
                                       str(self.scratch)], env=env, stdin=subprocess.DEVNULL)
        self._threads = _OneThread()

    def ready(self) -> bool:
        """Whether the worker has finished (its result can be taken without waiting)."""
        return self._result is not None or self._proc.poll() is not None

    def _wait(self) -> tuple:
        if self._result is None:
            code = self._proc.wait()
            try:
                self._result = pickle.loads((self.scratch / "result.pickle").read_bytes())
            except (OSError, pickle.UnpicklingError, EOFError):
                self._result = ("failed", f"worker exited with status {code}", {}, [])
        return self._result

    def take(self, key: tuple, ctx: Any) -> tuple[bool, Any]:
        """(True, data) with the worker's files moved into the export and counted in ctx.written, or
        (False, None): compute it here."""
        if self._proc.poll() is None and self._result is None:    # help with the worker's pieces meanwhile
            from exporters.figures import FIGURES

            _share(self.scratch, ctx, FIGURES[key[0]], key[1], front=False, alive=lambda: self._proc.poll() is None)
        status, results, written, used = self._wait()
        if status != "ok" or key not in results:
            if status != "ok":
                print(f"note: the parallel worker for {key[0]} stopped ({str(results)[:300]}); "
                      "computing it in the main process", file=sys.stderr)
            return False, None
        for rel in written:                 # into the export (files both processes write are equal)
            dst = self.out_dir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.scratch / "out" / rel, dst)
        ctx.written.update(written)
        for model_id, dataset_id in used:   # the same provenance record as a one-process build
            self.world.embeddings(model_id, dataset_id)
        return True, results[key]

    def close(self) -> None:
        self._threads.restore()
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)


def start(world: Any, out_dir: Path, cache_dir: Path) -> Offload | None:
    """An Offload for the HEAVY keys this build's configuration has, or None (one process)."""
    from exporters.world import World

    if jobs() < 2 or type(world) is not World:
        return None
    keys = [(fid, s) for fid, s in HEAVY if (s or fid) in world.config.sections]
    return Offload(world, out_dir, cache_dir, keys) if keys else None
