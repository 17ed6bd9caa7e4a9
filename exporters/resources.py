"""The files the package ships beside its code, read through importlib.resources.

`exporters/_data/` holds the figure templates (`templates/`), the article's page templates and browser
assets (`article/`), the MkDocs configuration (`mkdocs.yml`), the build configurations (`configs/`:
`default.toml`, `shapes.toml`), the compact copy of the seed article's data (`data/seed-article/`)
and the shipped models (`models/`). In the repository each of these is a symbolic link to the
top-level folder or file of that name, so git holds one copy and the repository keeps its layout
(`make site` reads the same files); in a wheel they are package data (pyproject.toml, package-data),
so an installed `clip-article` works from any directory. The folders keep their relative places, so
the default configuration's `../data/...` and `../models/...` resolve in both.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from exporters.errors import UserError

PACKAGE = "exporters"
DATA = "_data"


def resource_path(*parts: str, must_exist: bool = True) -> Path:
    """The real path of a shipped file or folder (`resource_path("configs", "default.toml")`).

    Symbolic links are resolved: in a checkout this is the top-level file (`<checkout>/configs/...`),
    so messages and relative paths name the repository's files."""
    node = importlib.resources.files(PACKAGE).joinpath(DATA, *parts)
    if not isinstance(node, os.PathLike):   # a zip import: MkDocs, Jinja and the loaders need real files
        raise UserError(f"{PACKAGE} is imported from an archive ({node}); install the package unpacked "
                        "(pip install / pipx install)")
    path = Path(os.path.realpath(node))
    if must_exist and not path.exists():
        raise UserError(f"{path}: shipped file missing from the installed package "
                        f"({'/'.join((PACKAGE, DATA, *parts))}); reinstall clip-latent-article")
    return path


def default_config() -> Path:
    """The embedded default build configuration (`configs/default.toml`)."""
    return resource_path("configs", "default.toml", must_exist=False)
