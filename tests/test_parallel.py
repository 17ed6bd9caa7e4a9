"""The large section's figure in a second process gives the same export as one process."""

from __future__ import annotations

import filecmp
import os

import pytest

from browser_support import write_synthetic
from exporters import parallel
from exporters.errors import UserError


def test_jobs_setting(monkeypatch):
    monkeypatch.setenv(parallel.ENV, "1")
    assert parallel.jobs() == 1
    monkeypatch.setenv(parallel.ENV, "two")
    with pytest.raises(UserError, match="EXPORTERS_JOBS='two'"):
        parallel.jobs()
    monkeypatch.delenv(parallel.ENV)
    assert parallel.jobs() in (1, 2)


def test_only_a_configuration_world_with_a_large_section_is_offloaded(tmp_path, monkeypatch):
    from exporters.config import load_config
    from exporters.world import World

    monkeypatch.setenv(parallel.ENV, "2")
    cfg = write_synthetic(tmp_path / "data")                         # no [sections.large]
    assert parallel.start(World(load_config(cfg), tmp_path / "c"), tmp_path / "out", tmp_path / "c") is None
    assert parallel.start(object(), tmp_path / "out", tmp_path / "c") is None


def _tree(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.build
def test_two_processes_export_the_same_bytes_as_one(tmp_path, monkeypatch):
    from exporters.config import load_config
    from exporters.site import export_world
    from exporters.world import World

    cfg = write_synthetic(tmp_path / "data")
    cfg.write_text(cfg.read_text() + '\n[sections.large]\ndataset = "main"\nmodels = ["ModelA", "ModelB"]\n')
    taken = []
    take = parallel.Offload.take
    monkeypatch.setattr(parallel.Offload, "take", lambda self, key, ctx: taken.append(key) or take(self, key, ctx))
    outs = {}
    for jobs in ("2", "1"):
        monkeypatch.setenv(parallel.ENV, jobs)
        cache = tmp_path / f"cache-{jobs}"                          # each computes everything itself
        outs[jobs] = tmp_path / f"out-{jobs}"
        export_world(World(load_config(cfg), cache), outs[jobs], cache)
    assert taken == [("large", None)]                               # the worker did the large figure
    assert not list(tmp_path.glob("data/.worker-*")) and not list(tmp_path.glob(".worker-*"))
    files = _tree(outs["1"])
    assert files == _tree(outs["2"]) and "data/manifest.json" in files and "data/provenance.json" in files
    _, mismatch, errors = filecmp.cmpfiles(outs["1"], outs["2"], files, shallow=False)
    assert not mismatch and not errors


def test_main_process_runs_one_blas_thread_while_the_worker_runs(monkeypatch):
    """Two processes on two cores: the main process drops to one BLAS (and torch) thread for the
    worker's lifetime, and gets its own numbers back afterwards (per library: one loaded while the
    environment said 1 thread cannot be raised, so each is compared with itself)."""
    import numpy as np  # noqa: F401 - loads the BLAS threadpoolctl reports on
    import torch
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads():
        return {p["filepath"]: p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    for k in parallel._THREADS:
        monkeypatch.delenv(k, raising=False)
    with threadpool_limits(limits=2):
        torch.set_num_threads(2)
        before = blas_threads()
        assert before and max(before.values()) == 2
        one = parallel._OneThread()
        assert set(blas_threads().values()) == {1} and torch.get_num_threads() == 1
        assert all(os.environ[k] == "1" for k in parallel._THREADS)
        one.restore()
        assert blas_threads() == before   # (torch's own count is left to torch: other tests set it too)
        assert not any(k in os.environ for k in parallel._THREADS)


def test_shared_pieces_are_taken_once_and_nobody_waits_for_a_gone_process(tmp_path):
    calls = []

    class Figure:
        @staticmethod
        def units(ctx, section="s"):
            return ["a", "b", "c"]

        @staticmethod
        def warm(ctx, unit, section="s"):
            if unit == "boom":
                raise RuntimeError("boom")
            calls.append(unit)

    parallel._share(tmp_path, None, Figure, None, front=False, alive=lambda: True)
    assert calls == ["c", "b", "a"]                          # the main process takes from the back
    parallel._share(tmp_path, None, Figure, None, front=True, alive=lambda: True)
    assert calls == ["c", "b", "a"]                          # all taken and done: nothing twice
    two = tmp_path / "two"
    (two / "claims").mkdir(parents=True)
    (two / "claims" / "1").touch()                           # taken by a process that has gone
    parallel._share(two, None, Figure, None, front=True, alive=lambda: False)
    assert calls[3:] == ["a", "c"] and not (two / "done" / "1").exists()
    Figure.units = staticmethod(lambda ctx, section="s": ["boom"])
    with pytest.raises(RuntimeError):
        parallel._share(tmp_path / "three", None, Figure, None, front=True, alive=lambda: True)
    assert (tmp_path / "three" / "done" / "0").exists()      # a failed piece is done: the other one does not wait
