"""The build configuration: valid files load, every kind of mistake is one clear message."""

from __future__ import annotations

import pytest

from conftest import ROOT
from exporters.config import load_config
from exporters.errors import UserError

GOOD = """
title = "t"
[datasets.d]
source = "reference"
path = "folder"
[models.m]
source = "reference"
label = "M"
[sections.main]
dataset = "d"
models = ["m"]
"""


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def test_good_config_resolves_paths_relative_to_the_file(tmp_path):
    c = load_config(write(tmp_path, GOOD))
    assert c.title == "t" and c.models["m"].label == "M"
    assert c.resolve(c.datasets["d"].options["path"]) == tmp_path / "folder"


@pytest.mark.parametrize("text, message", [
    ("title = ", "not valid TOML"),
    (GOOD.replace('source = "reference"\npath', 'source = "nope"\npath'), r"\[datasets.d\] has source 'nope'; use one of"),
    (GOOD.replace('path = "folder"\n', ""), r"\[datasets.d\] \(source reference\) needs path"),
    (GOOD.replace('models = ["m"]', 'models = ["m", "x"]'), "names model 'x', not defined; defined: m"),
    (GOOD.replace('dataset = "d"', 'dataset = "e"'), "names dataset 'e', not defined"),
    (GOOD.replace("[sections.main]", "[sections.mian]"), r"unknown section \[sections.mian\]"),
    (GOOD.split("[sections.main]")[0], r"a \[sections.main\] with a dataset and models is required"),
])
def test_mistakes_are_named(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="configuration file not found"):
        load_config(tmp_path / "none.toml")


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "configs").glob("*.toml")))
def test_shipped_configs_are_valid(name):
    load_config(ROOT / "configs" / name)


def test_export_refuses_to_empty_a_foreign_folder(tmp_path):
    from exporters.site import export_world

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="exists and is not an export folder"):
        export_world(object(), tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"
