"""The seed article's exported folders (`similarities/*.csv`, `prompts.txt`, `images/`, `audios/`)
read as a dataset plus one embedding source per model.

Layout (see ../shared/reference/amumo-article/README.md): `prompts.txt` has one caption (or SMILES)
per line; `similarities/{MODEL}.csv` is the stacked cosine-similarity matrix of all items, rows in
modality order; `{MODEL}_meta_info.json` holds the authors' gap distance, loss and clustering.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, Modality, PairedDataset
from exporters.sources.gram import embeddings_from_gram

# exp(logit_scale) behind each exported `loss`, solved from the data (README of the reference set).
REFERENCE_LOGIT_SCALES = {
    "CLIP": 100.0, "CyCLIP": 100.0, "CLOOB": 30.0, "CLOOB_LAION400M": 30.0,
    "ImageBind": 1.0, "CLOOME_CLIP": 1.0, "CLOOME_CLOOB": 1.0,
}


def read_lines(path: Path) -> list[str]:
    """One item per line; a trailing newline does not make an extra item."""
    if not path.exists():
        raise UserError(f"{path}: missing; it must hold one caption per line, line i for item i")
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise UserError(f"{path}: empty caption file; write one caption per line, line i for item i")
    return lines


def _modalities(root: Path, texts: list[str], audio_suffix: str) -> tuple[Modality, ...]:
    """The modalities a folder's name and files imply, rows in the order of its matrices."""
    n = len(texts)
    images = tuple(str(root / "images" / f"{i}.jpg") for i in range(n))
    missing = [p for p in images if not Path(p).exists()]
    if missing:
        raise UserError(f"{missing[0]}: missing image for item {Path(missing[0]).stem} "
                        f"({len(missing)} missing); every line of prompts.txt needs images/<i>.jpg")
    if "CLOOM" in root.name:
        mods = (Modality("image", "image", "BioImage", images), Modality("text", "molecule", "Molecule", tuple(texts)))
    else:
        mods = (Modality("image", "image", "Image", images), Modality("text", "text", "Text", tuple(texts)))
    if (root / "audios").is_dir():
        audios = tuple(str(root / "audios" / f"{i}{audio_suffix}") for i in range(n))
        gone = [p for p in audios if not Path(p).exists()]
        if gone:
            raise UserError(f"{gone[0]}: missing audio for item {Path(gone[0]).stem} ({len(gone)} missing); "
                            f"every line of prompts.txt needs audios/<i>{audio_suffix}")
        mods = mods + (Modality("audio", "audio", "Audio", audios),)
    return mods


def check_rows(prompts: Path, texts: list[str], rows: int, modalities: int, matrix: str) -> None:
    """prompts.txt and a similarity matrix must agree: rows = lines x modalities.

    Names the cause: an empty line (a stray blank line is the usual culprit) or the two counts.
    """
    n = len(texts)
    if rows == n * modalities:
        return
    empty = [i + 1 for i, t in enumerate(texts) if not t.strip()]
    hint = f"; line {empty[0]} is empty (remove it)" if empty else ""
    raise UserError(f"{prompts}: {n} lines, but {matrix} has {rows} rows = {modalities} modalities x "
                    f"{rows / modalities:g} items{hint}")


def _csv_rows(path: Path) -> int:
    with open(path, "rb") as f:
        data = f.read()
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def reference_dataset(folder: str | Path) -> PairedDataset:
    """The pairs of one exported folder, with the modalities its name and files imply."""
    root = Path(folder)
    if not root.is_dir():
        raise UserError(f"{root}: no such reference folder")
    texts = read_lines(root / "prompts.txt")
    modalities = 3 if (root / "audios").is_dir() else 2
    for model in reference_models(root):
        csv = root / "similarities" / f"{model}.csv"
        check_rows(root / "prompts.txt", texts, _csv_rows(csv), modalities, f"similarities/{csv.name}")
    mods = _modalities(root, texts, ".wav")
    ids = tuple(str(i) for i in range(len(texts)))
    return PairedDataset(f"reference_{root.name}", ids, mods, description=f"exported by the seed article's authors: {root.name}")


def copy_dataset(folder: str | Path) -> PairedDataset:
    """The pairs of one folder of the repository's compact copy (exporters/reference_copy.py)."""
    from exporters.reference_copy import CopiedSimilarities

    root = Path(folder)
    if not (root / "similarities.npz").is_file():
        raise UserError(f"{root}: not a folder of the reference copy (no similarities.npz); "
                        "regenerate it with `python -m exporters derive-reference`")
    texts = read_lines(root / "prompts.txt")
    modalities = 3 if (root / "audios").is_dir() else 2
    for model, packed_len in CopiedSimilarities(root).sizes().items():
        rows = int(round((np.sqrt(8 * packed_len + 1) - 1) / 2))
        check_rows(root / "prompts.txt", texts, rows, modalities, f"similarities.npz[{model}]")
    mods = _modalities(root, texts, ".mp3")
    ids = tuple(str(i) for i in range(len(texts)))
    return PairedDataset(f"reference_copy_{root.name}", ids, mods,
                         description=f"exported by the seed article's authors: {root.name} (compact copy)")


def copy_embeddings(folder: str | Path, model: str, dataset: PairedDataset | None = None) -> EmbeddingSet:
    """Embeddings recovered from the copy's packed float32 matrix of `model` (see SOURCES.json)."""
    from exporters.reference_copy import CopiedSimilarities

    root = Path(folder)
    dataset = dataset or copy_dataset(root)
    s = CopiedSimilarities(root).matrix(model)
    where = f"{root / 'similarities.npz'}[{model}]"
    blocks = embeddings_from_gram(s, [len(dataset)] * len(dataset.modalities), where)
    return EmbeddingSet(model, dataset.id, dict(zip(dataset.names, blocks)), REFERENCE_LOGIT_SCALES.get(model),
                        {"source": "gram", "path": str(root / "similarities.npz"), "format": "float32 packed"})


def reference_models(folder: str | Path) -> list[str]:
    """Models with a similarity matrix in the folder (the `_nogap` variants are derived, not models)."""
    sim = Path(folder) / "similarities"
    return sorted(p.stem for p in sim.glob("*.csv") if not p.stem.endswith("_nogap"))


def load_similarity_csv(path: Path) -> np.ndarray:
    if not path.exists():
        raise UserError(f"{path}: missing similarity matrix")
    try:
        return np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise UserError(f"{path}: not a numeric CSV matrix ({exc})") from None


def reference_meta(folder: str | Path, model: str) -> dict:
    path = Path(folder) / "similarities" / f"{model}_meta_info.json"
    if not path.exists():
        raise UserError(f"{path}: missing meta info")
    return json.loads(path.read_text())


def reference_embeddings(folder: str | Path, model: str, dataset: PairedDataset | None = None) -> EmbeddingSet:
    """Embeddings recovered from `similarities/{model}.csv` (exact up to an orthogonal transform)."""
    root = Path(folder)
    dataset = dataset or reference_dataset(root)
    known = reference_models(root)
    if model not in known:
        raise UserError(f"{root}: unknown model {model!r}; known: {', '.join(known)}")
    path = root / "similarities" / f"{model}.csv"
    s = load_similarity_csv(path)
    blocks = embeddings_from_gram(s, [len(dataset)] * len(dataset.modalities), str(path))
    scale = REFERENCE_LOGIT_SCALES.get(model)
    return EmbeddingSet(model, dataset.id, dict(zip(dataset.names, blocks)), scale,
                        {"source": "gram", "path": str(path)})


# -- loaders of the configuration's `reference` and `reference_copy` sources (exporters/registry.py) ---------
def dataset_from_config(world, entry) -> PairedDataset:
    return reference_dataset(world.resolve(entry.options["path"]))


def copy_dataset_from_config(world, entry) -> PairedDataset:
    return copy_dataset(world.resolve(entry.options["path"]))


def _with_scale(emb: EmbeddingSet, entry) -> EmbeddingSet:
    if "logit_scale" not in entry.options:
        return emb
    return EmbeddingSet(emb.model, emb.dataset, emb.blocks, float(entry.options["logit_scale"]), emb.provenance)


def _folder_of(world, entry, dataset_id: str, source: str) -> Path:
    d_entry = world.config.datasets[dataset_id]
    if d_entry.source != source:
        raise UserError(f"model {entry.id}: a {source} model only has similarities for {source} datasets, "
                        f"not {dataset_id!r}")
    return world.resolve(d_entry.options["path"])


def embeddings_from_config(world, entry, dataset_id: str) -> EmbeddingSet:
    """similarities/<name>.csv (name: the model id unless `name` is given) of a reference dataset's folder."""
    ds = world.dataset(dataset_id)
    folder = _folder_of(world, entry, dataset_id, "reference")
    return _with_scale(reference_embeddings(folder, entry.options.get("name", entry.id), ds), entry)


def copy_embeddings_from_config(world, entry, dataset_id: str) -> EmbeddingSet:
    """similarities.npz[<name>] of a reference_copy dataset's folder."""
    ds = world.dataset(dataset_id)
    folder = _folder_of(world, entry, dataset_id, "reference_copy")
    return _with_scale(copy_embeddings(folder, entry.options.get("name", entry.id), ds), entry)
