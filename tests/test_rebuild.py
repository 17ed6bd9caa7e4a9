"""A rebuild with nothing changed is a no-op that says so; any changed input rebuilds.

The fingerprint (exporters/fingerprint.py) is unit-tested here without a build; the CLI tests build
an 8-pair article in a subprocess (a few seconds each), as `make site` would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from browser_support import TINY, tiny
from conftest import ROOT
from exporters.config import load_config
from exporters.fingerprint import changed, config_files, fingerprint, tree_digest

def test_fingerprint_follows_content_not_place_or_comments(tmp_path):
    a = tiny(tmp_path / "a")
    b = tiny(tmp_path / "b", "# a comment changes nothing\n" + TINY)
    fa, fb = fingerprint(load_config(a)), fingerprint(load_config(b))
    assert fa == fb                                   # another folder, a comment: the same inputs
    assert set(config_files(load_config(a))) == {"main"}
    assert fingerprint(load_config(a), "zensical")["sha256"] != fa["sha256"]
    assert changed(fa, fingerprint(load_config(a), "zensical")) == ["build"]


@pytest.mark.parametrize("edit, part", [
    (lambda d: (d / "main" / "prompts.txt").write_text("another caption\n" * 8), "files"),
    (lambda d: (d / "main" / "images" / "3.jpg").write_bytes(b"not the same image"), "files"),
    (lambda d: (d / "tiny.toml").write_text(TINY.replace('"Tiny"', '"Small"')), "config"),
])
def test_fingerprint_changes_with_each_input(tmp_path, edit, part):
    cfg = tiny(tmp_path)
    before = fingerprint(load_config(cfg))
    edit(tmp_path)
    after = fingerprint(load_config(cfg))
    assert after["sha256"] != before["sha256"]
    assert changed(before, after) == [part]


def test_tree_digest_sees_names_and_bytes(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("1")
    first = tree_digest(tmp_path / "x")
    (tmp_path / "x" / "a.txt").rename(tmp_path / "x" / "b.txt")
    assert tree_digest(tmp_path / "x") != first
    (tmp_path / "x" / "b.txt").rename(tmp_path / "x" / "a.txt")
    assert tree_digest(tmp_path / "x") == first
    (tmp_path / "x" / "__pycache__").mkdir()
    (tmp_path / "x" / "__pycache__" / "m.pyc").write_bytes(b"\0")
    assert tree_digest(tmp_path / "x") == first       # compiled caches are not inputs


def cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, EXPORTERS_PROGRESS="0")
    return subprocess.run([sys.executable, "-m", "exporters", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.build
def test_unchanged_rebuild_is_a_noop_that_says_so(tmp_path):
    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    first = cli("build", "--config", str(cfg), "--site", str(site))
    assert first.returncode == 0, first.stderr
    built_id = os.readlink(site)
    marker = json.loads((site / ".clip-article-site.json").read_text())
    assert marker["inputs"] == fingerprint(load_config(cfg))

    again = cli("build", "--config", str(cfg), "--site", str(site))
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout and marker["inputs"]["sha256"][:12] in again.stdout
    assert os.readlink(site) == built_id              # nothing rebuilt, nothing published

    forced = cli("build", "--config", str(cfg), "--site", str(site), "--force")
    assert forced.returncode == 0 and "built" in forced.stdout
    assert os.readlink(site) != built_id
    # same inputs, byte-identical marker: the fingerprint holds no time, path or host
    assert json.loads((site / ".clip-article-site.json").read_text()) == marker

    (tmp_path / "d" / "main" / "prompts.txt").write_text("\n".join(f"changed {i}" for i in range(8)) + "\n")
    changed_build = cli("build", "--config", str(cfg), "--site", str(site))
    assert changed_build.returncode == 0 and "up to date" not in changed_build.stdout
    assert "changed 3" in (site / "data" / "main" / "items.json").read_text()


@pytest.mark.build
def test_a_site_without_a_recorded_fingerprint_is_rebuilt(tmp_path):
    cfg = tiny(tmp_path / "d")
    site = tmp_path / "site"
    assert cli("build", "--config", str(cfg), "--site", str(site)).returncode == 0
    first = os.readlink(site)
    (site / ".clip-article-site.json").write_text(json.dumps({"generator": "clip-article"}) + "\n")
    p = cli("build", "--config", str(cfg), "--site", str(site))
    assert p.returncode == 0 and "up to date" not in p.stdout and os.readlink(site) != first
