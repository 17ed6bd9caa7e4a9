"""Every key of every table is one the configuration declares (issue 9, "nothing silent").

The registry (exporters/registry.py) declares each dataset and model source (name, required and
optional keys, loader), each section role, the `[options]` and the top-level keys; load_config
checks every table against it. These tests reproduce the misspellings the issue lists, sweep every
registered source, and check that docs/configuration.md documents exactly what is declared.
"""

from __future__ import annotations

import difflib
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from exporters.config import load_config
from exporters.errors import UserError

BASE = """\
title = "t"
[options]
projections = ["PCA"]
[datasets.d]
source = "reference"
path = "folder"
[datasets.s]
source = "shapes"
split = "eval100"
[models.m]
source = "reference"
label = "M"
[models.clip]
source = "open_clip"
arch = "ShapesViT-T-32"
checkpoint = "clip.safetensors"
checkpoint_format = "open_clip"
[sections.main]
dataset = "d"
models = ["m"]
[sections.subset]
dataset = "d"
substring = "dog"
models = ["m"]
"""

OPEN_CLIP = "arch, checkpoint, checkpoint_format, label, pretrained, random_init, source, trusted_pickle"

# (what the issue lists, the edit, the table named, the key, the allowed keys, the suggestion)
CASES = [
    ("model table: lable", ('label = "M"', 'lable = "M"'),
     "[models.m]", "lable", "label, logit_scale, name, source", "label"),
    ("model table: checkpoint_fromat", ('checkpoint_format = "open_clip"', 'checkpoint_fromat = "open_clip"'),
     "[models.clip]", "checkpoint_fromat", OPEN_CLIP, "checkpoint_format"),
    ("shapes dataset: sampel", ('split = "eval100"', 'split = "eval100"\nsampel = 100'),
     "[datasets.s]", "sampel", "label, source, split", None),
    ("section: substrng", ('substring = "dog"', 'substrng = "dog"'),
     "[sections.subset]", "substrng", "dataset, models, substring", "substring"),
    ("section: sampel", ('[sections.main]\ndataset = "d"', '[sections.main]\nsampel = 100\ndataset = "d"'),
     "[sections.main]", "sampel", "dataset, models", None),
    ("top level: titel", ('title = "t"', 'titel = "t"'),
     "the top level", "titel", "datasets, models, options, sections, title", "title"),
    ("top level: [modles.x]", ("[sections.main]", '[modles.x]\nsource = "reference"\n[sections.main]'),
     "the top level", "modles", "datasets, models, options, sections, title", "models"),
    ("top level: [option]", ("[sections.main]", '[option]\nseed_landscapes = "x"\n[sections.main]'),
     "the top level", "option", "datasets, models, options, sections, title", "options"),
    ("[options]: seed_landscape", ('projections = ["PCA"]', 'seed_landscape = "x"'),
     "[options]", "seed_landscape", "loss_batch_size, projections, seed_landscapes", "seed_landscapes"),
    ("file dataset: sampel at load time", ('split = "eval100"', 'split = "eval100"\n[datasets.c]\n'
                                           'source = "coco"\nannotations = "a.json"\nimages = "i"\nsampel = 100'),
     "[datasets.c]", "sampel", "annotations, images, label, sample, seed, source", "sample"),
]


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_the_base_configuration_loads(tmp_path):
    c = load_config(write(tmp_path, BASE))
    assert set(c.datasets) == {"d", "s"} and set(c.models) == {"m", "clip"} and c.options == {"projections": ["PCA"]}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_the_issues_misspellings_are_refused(tmp_path, case):
    _, (old, new), table, key, allowed, near = case
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(UserError) as info:
        load_config(path)
    want = f"{path}: {table} has unknown key {key!r}; allowed: {allowed}"
    want += f"; did you mean {near!r}?" if near else ""
    assert str(info.value) == want


def test_refusal_is_one_line_and_exit_2(tmp_path):
    path = write(tmp_path, BASE.replace('label = "M"', 'lable = "M"'))
    p = subprocess.run([sys.executable, "-m", "exporters", "inspect", "--config", str(path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.count("\n") == 1 and "[models.m] has unknown key 'lable'" in p.stderr
    assert "did you mean 'label'?" in p.stderr


def test_a_table_of_the_wrong_type_is_named(tmp_path):
    for text, names in [('options = "x"\n' + BASE.replace('[options]\nprojections = ["PCA"]\n', ""), "options"),
                        ('models = ["m"]\n' + BASE.split("[models.m]")[0], "models")]:
        with pytest.raises(UserError, match=names) as info:
            load_config(write(tmp_path, text))
        assert "must be a table" in str(info.value)


# -- the registry ---------------------------------------------------------------------------------------
def _registry():
    from exporters import registry

    return registry


def _sources():
    try:
        r = _registry()
    except ImportError:   # reported by test_the_registry_lists_every_source, not at collection
        return []
    return [(role, s) for role, table in (("datasets", r.DATASET_SOURCES), ("models", r.MODEL_SOURCES))
            for s in table.values()]


def _ids(sources):
    return [f"{role}.{s.name}" for role, s in sources]


def _raw(role: str, table: dict) -> dict:
    """A valid configuration (one reference dataset and model in main) plus `table` as [<role>.x]."""
    raw = {"datasets": {"d": {"source": "reference", "path": "folder"}},
           "models": {"m": {"source": "reference"}},
           "sections": {"main": {"dataset": "d", "models": ["m"]}}}
    raw[role]["x"] = table
    return raw


def _misspell(key: str) -> str:
    return key[:-1] if len(key) > 2 else key + key[-1]


def test_the_registry_lists_every_source():
    r = _registry()
    assert set(r.DATASET_SOURCES) == {"shapes", "shapes_subset", "shapes_augmentation", "reference", "reference_copy",
                                      "coco", "image_folder", "diffusiondb", "triplets", "cloome", "augmentation"}
    assert set(r.MODEL_SOURCES) == {"open_clip", "reference", "reference_copy", "arrays", "cloob_laion"}
    assert set(r.SECTIONS) == {"main", "world", "large", "subset", "augmentations", "triplet", "molecules",
                              "temperature"}
    assert set(r.TOP_LEVEL) == {"title", "options", "datasets", "models", "sections"}
    assert set(r.OPTIONS) == {"seed_landscapes", "projections", "loss_batch_size"}


@pytest.mark.parametrize("role, source", _sources(), ids=_ids(_sources()))
def test_every_source_refuses_unknown_and_misspelt_keys(tmp_path, role, source):
    from exporters.config import config_from_dict

    where = tmp_path / "c.toml"
    example = {"source": source.name, **source.example}
    assert set(example) <= set(source.allowed) and set(source.required) <= set(example)
    c = config_from_dict(_raw(role, example), where)            # the declared example is valid
    assert getattr(c, role)["x"].source == source.name
    allowed = ", ".join(sorted(source.allowed))
    for key in ("bogus", *(_misspell(k) for k in source.allowed)):
        if key in source.allowed:
            continue
        with pytest.raises(UserError) as info:
            config_from_dict(_raw(role, {**example, key: 1}), where)
        msg = str(info.value)
        assert msg.startswith(f"{where}: [{role}.x] has unknown key {key!r}; allowed: {allowed}"), msg
        near = difflib.get_close_matches(key, sorted(source.allowed), n=1)
        assert msg.endswith(f"; did you mean {near[0]!r}?" if near else allowed), msg
        assert "\n" not in msg
    for key in source.required:                                  # each required key is required
        with pytest.raises(UserError, match=rf"\[{role}.x\] \(source {source.name}\) needs {key}"):
            config_from_dict(_raw(role, {k: v for k, v in example.items() if k != key}), where)


@pytest.mark.parametrize("role", ["main", "world", "large", "subset", "augmentations", "triplet", "molecules",
                                  "temperature"])
def test_every_section_refuses_unknown_keys(tmp_path, role):
    from exporters.config import config_from_dict

    r = _registry()
    where = tmp_path / "c.toml"
    raw = _raw("datasets", {"source": "reference", "path": "other"})
    table = {k: (["m"] if k == "models" else {"rotation": "x"} if k == "datasets" else "x" if k == "dataset" else "dog")
             for k in r.SECTIONS[role].allowed}
    raw["sections"][role] = table
    config_from_dict(raw, where)
    allowed = ", ".join(sorted(r.SECTIONS[role].allowed))
    for key in ("bogus", *(_misspell(k) for k in r.SECTIONS[role].allowed)):
        raw["sections"][role] = {**table, key: 1}
        with pytest.raises(UserError, match=re.escape(f"[sections.{role}] has unknown key {key!r}; allowed: {allowed}")):
            config_from_dict(raw, where)


def test_every_loader_is_importable_and_callable():
    import importlib

    for _, s in _sources():
        module, _, name = s.loader.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), s.loader


def test_configuration_checks_import_no_heavy_module():
    code = ("import sys, exporters.config, exporters.registry\n"
            "heavy = [m for m in ('torch', 'open_clip', 'numpy', 'PIL', 'rdkit') if m in sys.modules]\n"
            "assert not heavy, heavy")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr


# -- the documentation ----------------------------------------------------------------------------------
def _table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under `## heading` in docs/configuration.md."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    part = text.split(f"\n## {heading}\n", 1)[1]
    rows, started = [], False
    for line in part.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # without the header


def _documented(heading: str) -> dict[str, tuple[set[str], set[str]]]:
    """{name: (every key, the keys in bold)} of a table whose first cell names `name` in backticks."""
    out = {}
    for cells in _table(heading):
        names = re.findall(r"`([a-z_]+)`", cells[0])
        assert len(names) == 1, cells
        keys = set(re.findall(r"`([a-z_]+)`", cells[1]))
        bold = set(re.findall(r"\*\*`([a-z_]+)`\*\*", cells[1]))
        out[names[0]] = (keys, bold)
    return out


@pytest.mark.parametrize("heading, table", [("Dataset sources", "DATASET_SOURCES"),
                                            ("Model sources", "MODEL_SOURCES"), ("Sections", "SECTIONS")])
def test_docs_tables_list_every_declared_key(heading, table):
    declared = getattr(_registry(), table)
    documented = _documented(heading)
    assert set(documented) == set(declared)
    for name, decl in declared.items():
        keys, bold = documented[name]
        own = set(decl.allowed) - {"source", "label"}   # the two every source takes, said once
        assert keys == own, (name, keys ^ own)
        assert bold == set(decl.required), (name, bold ^ set(decl.required))


def test_docs_list_the_options_and_top_level_keys():
    r = _registry()
    assert {row[0].strip("`") for row in _table("Options")} == set(r.OPTIONS)
    text = " ".join((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8").split())
    assert "Every dataset and model table also takes `source` and `label`" in text
    line = re.search(r"The top level holds only (.*?);? ?Every", text, re.S)
    assert line and set(re.findall(r"`([a-z_]+)`", line.group(1))) == set(r.TOP_LEVEL)


# -- what must keep loading -----------------------------------------------------------------------------
def test_configurations_the_tests_write_still_load(tmp_path):
    from browser_support import write_synthetic

    load_config(write_synthetic(tmp_path / "synthetic"))
    from test_faults import TINY

    load_config(write(tmp_path, TINY))


def test_provenance_keeps_what_each_source_declares(tmp_path):
    """The provenance allow-list moved into the registry: the record is the same as before."""
    import numpy as np

    from exporters.pairs import EmbeddingSet
    from exporters.world import World

    text = BASE + '[models.arr]\nsource = "arrays"\npath = "e/{dataset}.npz"\n'
    w = World(load_config(write(tmp_path, text)), work_dir=tmp_path / "w")
    block = {"image": np.zeros((3, 2)), "text": np.zeros((3, 2))}
    oc = {"source": "open_clip", "arch": "ShapesViT-T-32", "weights": "sha256:ab", "dataset": "s_v1", "ids": "x",
          "data": "dd", "open_clip": "2.0", "torch": "2.1", "image_loader": 3, "cache_hit": True}
    w._embeddings[("clip", "s")] = EmbeddingSet("clip", "s_v1", block, 10.0, {**oc, "label": "clip"})
    w._embeddings[("m", "d")] = EmbeddingSet("m", "d_v1", block, None,
                                             {"source": "gram", "path": "/x/y/similarities.npz", "format": "f",
                                              "label": "M"})
    w._embeddings[("arr", "d")] = EmbeddingSet("arr", "d_v1", block, 5.0,
                                               {"source": "arrays", "path": "/a/e/d.npz", "label": "arr"})
    rows = {r["model"]: r for r in w.provenance()}
    assert rows["clip"] == {"model": "clip", "label": "clip", "dataset": "s", "dataset_version": "s_v1", "pairs": 3,
                            "logit_scale": 10.0, "arch": "ShapesViT-T-32", "checkpoint": "clip.safetensors",
                            "data": "dd", "open_clip": "2.0", "source": "open_clip", "torch": "2.1",
                            "weights": "sha256:ab"}
    assert rows["m"] == {"model": "m", "label": "M", "dataset": "d", "dataset_version": "d_v1", "pairs": 3,
                         "logit_scale": None, "path": "similarities.npz", "source": "gram"}
    assert rows["arr"] == {"model": "arr", "label": "arr", "dataset": "d", "dataset_version": "d_v1", "pairs": 3,
                           "logit_scale": 5.0, "path": "d.npz", "source": "arrays"}


@pytest.mark.parametrize("source, table, names", [
    ("augmentation", {"kind": "rotation", "of": "d"}, ("`of`", "`index`")),
    ("augmentation", {"kind": "rotation", "of": "d", "index": 0, "image": "a.png"}, ("`of`", "`image`")),
    ("augmentation", {"kind": "rotation", "image": "a.png", "caption": "c", "index": 3}, ("`image`", "`of`")),
    ("augmentation", {"kind": "rotation", "image": "a.png"}, ("`image`", "`caption`")),
])
def test_rules_between_dataset_keys_are_checked_at_load(tmp_path, source, table, names):
    from exporters.config import config_from_dict

    with pytest.raises(UserError, match=r"\[datasets.x\]") as info:
        config_from_dict(_raw("datasets", {"source": source, **table}), tmp_path / "c.toml")
    assert all(n in str(info.value) for n in names), str(info.value)


def test_open_clip_converted_formats_need_a_checkpoint(tmp_path):
    from exporters.config import config_from_dict

    table = {"source": "open_clip", "arch": "RN50-quickgelu", "pretrained": "openai", "checkpoint_format": "cyclip"}
    with pytest.raises(UserError, match=r"\[models.x\] checkpoint_format needs a `checkpoint` file"):
        config_from_dict(_raw("models", table), tmp_path / "c.toml")


def test_every_declared_dataset_key_reaches_its_loader(tmp_path):
    """image_folder and augmentation read through World with every optional key set."""
    from _standins import write_images

    from exporters.world import World

    names = [f"{c}.png" for c in "abcdef"]
    write_images(tmp_path / "imgs", names)
    (tmp_path / "caps.csv").write_text("pic,words\n" + "".join(f"{n},a {n[0]} thing\n" for n in names))
    text = BASE + """
[datasets.mine]
source = "image_folder"
label = "Mine"
images = "imgs"
captions = "caps.csv"
image_column = "pic"
caption_column = "words"
sample = 4
seed = 7
[datasets.turn]
source = "augmentation"
kind = "noise"
of = "mine"
index = 1
steps = 5
seed = 3
[datasets.turn_file]
source = "augmentation"
kind = "rotation"
image = "imgs/a.png"
caption = "a thing"
steps = 4
"""
    w = World(load_config(write(tmp_path, text)), work_dir=tmp_path / "w")
    mine = w.dataset("mine")
    assert len(mine) == 4 and mine.id.endswith("_n4_seed7"), mine.id   # sample and seed reached the loader
    assert mine.modality("text").items[0].startswith("a ")               # so did caption_column
    turn = w.dataset("turn")
    assert len(turn) == 5 and set(turn.modality("text").items) == {mine.modality("text").items[1]}
    assert len(w.dataset("turn_file")) == 4
