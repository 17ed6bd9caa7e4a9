"""A plain folder of images with a caption file: users' own data.

    images/   a.jpg b.png ...
    captions  .csv/.tsv with a header (an image column: image|file_name|filename|file|path and a
              caption column: caption|text|prompt|title), .json ([{"image": .., "caption": ..}] or
              {"a.jpg": "caption"}), or .txt (one caption per line, line i for the i-th image in
              sorted file-name order).

Every image of the folder needs exactly one caption row and every row an existing, readable
image; a count mismatch is an error (not a silent truncation). Pairs are ordered by file name and
optionally sampled with the seed article's sampler (`common.sample_indices`).
"""

from __future__ import annotations

from pathlib import Path

from exporters.datasets.common import (AMUMO_SEED, IMAGE_COLUMNS, TEXT_COLUMNS, cell, check_image, list_images,
                                       read_table, sample_indices, slug, table_columns)
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset

FOLDER_VERSION = "v1"


def folder_pairs(images: str | Path, captions: str | Path, image_column: str | None = None,
                 caption_column: str | None = None) -> list[tuple[str, Path, str]]:
    """(id, image path, caption) for every image of the folder, sorted by file name."""
    folder, table = Path(images), Path(captions)
    files = list_images(folder)
    rows = read_table(table)
    if table.suffix.lower() == ".txt":
        if len(rows) != len(files):
            raise UserError(f"{table}: {len(rows)} caption lines but {folder} holds {len(files)} images; "
                            "write one line per image, in sorted file-name order")
        return [(f.name, f, cell(r, "caption", table, i + 1, "caption")) for i, (f, r) in enumerate(zip(files, rows))]
    cols = table_columns(rows, table, {"image": (IMAGE_COLUMNS, image_column), "text": (TEXT_COLUMNS, caption_column)})
    # rows first: a row whose image is gone is named as such, not reported as a count mismatch
    seen: dict[str, int] = {}
    out = []
    for line, row in enumerate(rows, start=2 if table.suffix.lower() in (".csv", ".tsv") else 1):
        name = cell(row, cols["image"], table, line, "image name")
        path = Path(name) if Path(name).is_absolute() else folder / name
        key = str(path.resolve())
        if key in seen:
            raise UserError(f"{table}: row {line} names {name!r} again (first at row {seen[key]}); "
                            "give each image one caption row")
        seen[key] = line
        if not path.is_file():
            raise UserError(f"{path}: named in {table} row {line} but not in the image folder (deleted or "
                            "renamed?); restore the file, fix the name in the row, or drop the row")
        out.append((name, path, cell(row, cols["text"], table, line, "caption")))
    if len(rows) != len(files):
        extra = [f for f in files if str(f.resolve()) not in seen]
        which = (f"; {extra[0]} " + (f"and {len(extra) - 1} more have" if len(extra) > 1 else "has")
                 + " no row: add a row for each or move them out of the folder") if extra else \
            "; give exactly one row per image of the folder"
        raise UserError(f"{table}: {len(rows)} caption rows but {folder} holds {len(files)} images{which}")
    return sorted(out, key=lambda t: t[0])


def folder_dataset(images: str | Path, captions: str | Path, sample: int | None = None, seed: int = AMUMO_SEED,
                   image_column: str | None = None, caption_column: str | None = None) -> PairedDataset:
    """Image-caption pairs of a user folder (all of them, or `sample` drawn reproducibly with `seed`)."""
    folder = Path(images)
    pairs = folder_pairs(folder, captions, image_column, caption_column)
    idx = sample_indices(len(pairs), sample, seed, f"{captions}")
    chosen = [pairs[i] for i in idx]
    for _, path, _ in chosen:
        check_image(path)
    suffix = f"_n{len(chosen)}" + (f"_seed{seed}" if sample is not None else "")
    return PairedDataset(
        f"folder_{slug(folder.name)}_{FOLDER_VERSION}{suffix}",
        tuple(c[0] for c in chosen),
        (Modality("image", "image", "Image", tuple(str(c[1]) for c in chosen)),
         Modality("text", "text", "Text", tuple(c[2] for c in chosen))),
        description=f"{len(chosen)} image-caption pairs from {folder.name}"
                    + (f" (sample of {len(pairs)}, seed {seed})" if sample is not None else ""),
        extra={"loader": "folder", "images": str(folder), "captions": str(captions), "pool": len(pairs),
               "sample": sample, "seed": seed if sample is not None else None},
    )


def from_config(world, entry) -> PairedDataset:
    """The `image_folder` source (exporters/registry.py)."""
    o = entry.options
    return folder_dataset(world.resolve(o["images"]), world.resolve(o["captions"]),
                          image_column=o.get("image_column"), caption_column=o.get("caption_column"),
                          **{k: o[k] for k in ("sample", "seed") if k in o})
