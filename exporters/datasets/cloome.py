"""CLOOME-style pairs: a microscopy image and the molecule (SMILES) the cells were treated with.

One table (.csv/.tsv/.json) with a row per pair: an image column (image|file_name|...|SAMPLE_KEY
with `image_pattern`) and a SMILES column (smiles|molecule|SMILES). Images must be files a browser
shows (CLOOME's 5-channel Cell Painting arrays are converted to RGB thumbnails first, see
docs/configuration.md). Every SMILES is parsed with RDKit at load time; the page draws each
molecule from it (`exporters.molecules`).
"""

from __future__ import annotations

from pathlib import Path

from exporters.datasets.common import (AMUMO_SEED, IMAGE_COLUMNS, cell, check_image, read_table, sample_indices,
                                       slug, table_columns)
from exporters.errors import UserError
from exporters.molecules import validate_smiles
from exporters.pairs import Modality, PairedDataset

CLOOME_VERSION = "v1"
SMILES_COLUMNS = ("smiles", "molecule", "canonical_smiles")


def cloome_dataset(table: str | Path, sample: int | None = None, seed: int = AMUMO_SEED,
                   image_column: str | None = None, smiles_column: str | None = None,
                   image_pattern: str | None = None) -> PairedDataset:
    """Microscopy image - molecule pairs listed in `table` (paths relative to the table's folder).

    image_pattern: optional format string for the image path built from the image column, e.g.
    "images/{}.png" for a table whose SAMPLE_KEY column holds bare keys.
    """
    path = Path(table)
    if path.suffix.lower() == ".txt":
        raise UserError(f"{path}: a CLOOME table needs an image column and a SMILES column; use .csv or .json")
    rows = read_table(path)
    cols = table_columns(rows, path, {"image": (IMAGE_COLUMNS + ("sample_key",), image_column),
                                      "smiles": (SMILES_COLUMNS, smiles_column)})
    first_line = 2 if path.suffix.lower() in (".csv", ".tsv") else 1
    idx = sample_indices(len(rows), sample, seed, str(path))
    ids, images, smiles = [], [], []
    for i in idx:
        row, line = rows[i], i + first_line
        key = cell(row, cols["image"], path, line, "image")
        img = path.parent / (image_pattern.format(key) if image_pattern else key)
        check_image(img, "microscopy image")
        smiles.append(validate_smiles(cell(row, cols["smiles"], path, line, "SMILES"), f"{path}:{line}"))
        ids.append(str(row.get("id") or Path(key).stem))
        images.append(str(img))
    if len(set(ids)) != len(ids):
        dup = next(x for x in ids if ids.count(x) > 1)
        raise UserError(f"{path}: image {dup!r} is listed twice; give each pair its own image")
    suffix = f"_n{len(ids)}" + (f"_seed{seed}" if sample is not None else "")
    return PairedDataset(
        f"cloome_{slug(path.parent.name + '_' + path.stem)}_{CLOOME_VERSION}{suffix}",
        tuple(ids),
        (Modality("image", "image", "BioImage", tuple(images)),
         Modality("molecule", "molecule", "Molecule", tuple(smiles))),
        description=f"{len(ids)} microscopy image - molecule pairs from {path.name}",
        extra={"loader": "cloome", "table": str(path), "pool": len(rows), "sample": sample,
               "seed": seed if sample is not None else None},
    )


def from_config(world, entry) -> PairedDataset:
    """The `cloome` source (exporters/registry.py)."""
    o = entry.options
    return cloome_dataset(world.resolve(o["table"]), image_column=o.get("image_column"),
                          smiles_column=o.get("smiles_column"), image_pattern=o.get("image_pattern"),
                          **{k: o[k] for k in ("sample", "seed") if k in o})
