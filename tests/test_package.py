"""The installed tool is complete: a wheel built from the repository, installed into a fresh virtual
environment, builds an article from an empty directory and finds its default configuration, data and
models inside the installed package, never in the checkout.

The fresh environment gets no dependencies of its own (nothing is downloaded): a .pth file puts the
test interpreter's site-packages after its own, where the project itself is only an editable install
whose hook a .pth path does not run, so `exporters` can only come from the wheel.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

import exporters
from browser_support import write_synthetic

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["index.html", "gap/index.html", "explorer/index.html", "modalities/index.html",
         "augmentations/index.html", "world/index.html", "large/index.html", "data/index.html"]

pytestmark = pytest.mark.build   # builds a wheel, installs it and builds an article with it


def _run(cmd: list[str], cwd: Path, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def _source_tree(dst: Path) -> Path:
    """A copy of what a clone holds (tracked and untracked-but-not-ignored files, links kept as links),
    so the wheel build writes its build/ and egg-info there, not into the checkout."""
    r = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                       capture_output=True)
    if r.returncode != 0:
        pytest.skip("not a git checkout: cannot tell the repository's files from local ones")
    for name in filter(None, r.stdout.decode().split("\0")):
        src, out = ROOT / name, dst / name
        if not os.path.lexists(src):        # deleted in the work tree, not yet in the index
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), out)
        else:
            shutil.copy2(src, out)
    return dst


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = _source_tree(tmp / "src")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
          "--disable-pip-version-check", "-q", "-w", str(tmp / "dist"), str(src)], cwd=tmp)
    (whl,) = (tmp / "dist").glob("clip_latent_article-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> dict:
    """A fresh venv with the wheel installed (--no-deps) and the test environment's packages behind it."""
    tmp = tmp_path_factory.mktemp("venv")
    env_dir = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], cwd=tmp)
    py = env_dir / "bin" / "python"
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp)
                .stdout.strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_dependencies.pth").write_text("".join(d + "\n" for d in sorted(deps)))
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
          "--disable-pip-version-check", "-q", str(wheel)], cwd=tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"python": py, "bin": env_dir / "bin", "site": site, "env": env}


def test_wheel_holds_code_data_and_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ["exporters/_data/mkdocs.yml", "exporters/_data/configs/default.toml",
                    "exporters/_data/templates/explorer.html.j2", "exporters/_data/article/pages/index.md.j2",
                    "exporters/_data/article/views/_core.js", "exporters/_data/article/views/explorer.js", "exporters/_data/models/clip.safetensors",
                    "exporters/_data/data/seed-article/NOTICE.md",
                    "exporters/_data/data/seed-article/MSCOCO-Val_size-100/prompts.txt"]:
        assert shipped in names, shipped
    # every file of the repository's shipped folders is in the wheel
    for top, pattern in [("templates", "*"), ("article", "**/*"), ("data/seed-article", "**/*"),
                         ("models", "*.safetensors")]:
        for f in (ROOT / top).glob(pattern):
            if f.is_file() and "__pycache__" not in f.parts:
                assert f"exporters/_data/{f.relative_to(ROOT)}" in names, f
    dist = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{dist}/licenses/LICENSE" in names
    meta = zipfile.ZipFile(wheel).read(f"{dist}/METADATA").decode()
    assert f"Version: {exporters.__version__}\n" in meta and "License-Expression: MIT\n" in meta
    assert not [n for n in names if n.startswith(("tests/", "docs/", "configs/", "build/"))]
    size = wheel.stat().st_size
    assert size < 40e6, f"wheel is {size / 1e6:.1f} MB"


def test_one_version_and_spdx_licence(capsys):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "exporters.__version__"}
    assert project["project"]["license"] == "MIT" and "LICENSE" in project["project"]["license-files"]
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    from exporters.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["--version"])
    assert capsys.readouterr().out.strip() == f"clip-article {exporters.__version__}"


def test_installed_tool_builds_from_an_empty_directory(venv, tmp_path):
    where = _run([str(venv["python"]), "-c", "import exporters, exporters.resources as r; "
                  "print(exporters.__file__); print(r.resource_path('mkdocs.yml'))"],
                 cwd=tmp_path, env=venv["env"]).stdout.split()
    for p in where:   # the package and its data come from the new environment, not from the checkout
        assert Path(p).is_relative_to(venv["site"]) and not Path(p).is_relative_to(ROOT), where
    cfg = write_synthetic(tmp_path / "elsewhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _run([str(venv["bin"] / "clip-article"), "build", "--config", str(cfg), "--site", "out"],
             cwd=empty, env=venv["env"])
    assert "built" in r.stdout
    site = empty / "out"
    for page in PAGES:
        assert (site / page).is_file(), page
    assert (site / "assets" / "figures.js").is_file() and len(list((site / "assets").glob("plotly-*.min.js"))) == 1
    assert 'data-figure="explorer"' in (site / "explorer" / "index.html").read_text(encoding="utf-8")
    # nothing but the site (a link) and its builds folder was written to the working directory
    assert sorted(p.name for p in empty.iterdir()) == [".out-builds", "out"]


def test_installed_default_config_reads_the_packaged_data(venv, tmp_path):
    """`clip-article` without --config: the embedded default, whose ../data and ../models paths
    resolve inside the installed package; its real-model data gives the metrics table."""
    code = """if True:
        import json
        from exporters.config import load_config
        from exporters.resources import default_config
        cfg = load_config(default_config())
        paths = {"config": str(cfg.path)}
        for kind, entries in (("datasets", cfg.datasets), ("models", cfg.models)):
            for e in entries.values():
                for key in ("path", "checkpoint"):
                    if key in e.options:
                        paths[f"{kind}.{e.id}.{key}"] = str(cfg.resolve(e.options[key]).resolve())
        paths["options.seed_landscapes"] = str(cfg.resolve(cfg.options["seed_landscapes"]).resolve())
        print(json.dumps(paths))
    """
    paths = json.loads(_run([str(venv["python"]), "-c", code], cwd=tmp_path, env=venv["env"]).stdout)
    assert len([k for k in paths if k.endswith(".checkpoint")]) == len(list((ROOT / "models").glob("*.safetensors")))
    assert len([k for k in paths if k.endswith(".path")]) >= 6
    for key, p in paths.items():
        assert Path(p).exists(), (key, p)
        assert Path(p).is_relative_to(venv["site"] / "exporters" / "_data"), (key, p)
    shipped = Path(paths["models.clip.checkpoint"]).read_bytes()
    assert hashlib.sha256(shipped).digest() == hashlib.sha256((ROOT / "models" / "clip.safetensors").read_bytes()).digest()
    r = _run([str(venv["bin"] / "clip-article"), "inspect", "--json"], cwd=tmp_path, env=venv["env"])
    table = json.loads(r.stdout)
    assert table["dataset"] == "coco100" and {"CLIP", "ImageBind"} <= set(table["models"])
    assert list(tmp_path.iterdir()) == [], "inspect wrote into the working directory"
