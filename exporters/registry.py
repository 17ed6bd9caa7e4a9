"""What a build configuration may say: every source, section role, option and top-level key.

One declaration per source: its name, its required and optional keys, and its loader, a
`module:function` imported only when a build reads that source (so checking a configuration never
imports numpy, PIL or torch). `exporters/config.py` checks every table of a configuration against
these declarations, `exporters/world.py` calls the loaders, `World.provenance` keeps what each model
source declares in `records`, and docs/configuration.md documents exactly these keys
(tests/test_registry.py holds them to it).

Adding a source: write its loader in one module (`def from_config(world, entry)` for a dataset,
returning a PairedDataset; `def from_config(world, entry, dataset_id)` for a model, returning an
EmbeddingSet), add one `Source(...)` line below, and one row to docs/configuration.md's table.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from exporters.errors import UserError

COMMON = ("source", "label")           # every dataset and model table takes these
FILE_RECORDS = ("path", "checkpoint")  # provenance values that are paths: kept as file names only


@dataclass(frozen=True)
class Source:
    """A dataset or model source: the keys its table takes and the function that loads it."""

    name: str
    loader: str                                  # "module:function"
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    example: dict = field(default_factory=dict, compare=False)   # a minimal valid table, less `source`
    check: Callable[[dict, str], None] | None = None            # rules between keys, at load_config
    records: tuple[str, ...] = ()               # model sources: provenance keys the build's record keeps
    records_from_table: tuple[str, ...] = ()    # ... of which these are read from the table itself
    encodes_text: bool = False                  # model sources: can embed any text (class prompts, zero-shot)

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*COMMON, *self.required, *self.optional)

    def load(self) -> Callable:
        """The loader function (imports its module now, not before)."""
        module, _, name = self.loader.partition(":")
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Role:
    """A section of the article and the keys its `[sections.<role>]` table takes."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def allowed(self) -> tuple[str, ...]:
        return (*self.required, *self.optional)


# -- rules between keys ------------------------------------------------------------------------------
def _one_source_of_weights(o: dict, at: str) -> None:
    """open_clip: exactly one of pretrained, checkpoint, random_init = true (never a silently random model)."""
    rnd = o.get("random_init", False)
    if not isinstance(rnd, bool):
        raise UserError(f"{at} random_init must be true or false, not {rnd!r}")
    given = [k for k in ("pretrained", "checkpoint") if k in o] + (["random_init"] if rnd else [])
    if not given:
        raise UserError(f"{at} names no weights: set pretrained = \"<tag>\" or checkpoint = \"<file>\", "
                        "or random_init = true for an untrained model")
    if len(given) > 1:
        raise UserError(f"{at} gives {' and '.join(given)}; give exactly one source of weights")
    if o.get("checkpoint_format", "open_clip") != "open_clip" and "checkpoint" not in o:
        raise UserError(f"{at} checkpoint_format needs a `checkpoint` file")


def _image_or_of(o: dict, at: str) -> None:
    """augmentation: an image file with its caption, or an item of another dataset."""
    if "of" in o:
        if "image" in o or "caption" in o or "index" not in o:
            raise UserError(f"{at}: give either `of` (a dataset id) with `index`, or `image` with `caption`")
    elif "image" not in o or "caption" not in o or "index" in o:
        raise UserError(f"{at}: give `image` (a file) and `caption`, or `of` (a dataset id) and `index`")


# -- the sources -------------------------------------------------------------------------------------
SAMPLING = ("sample", "seed")
_OPEN_CLIP_RECORDS = ("source", "arch", "weights", "open_clip", "torch", "data", "checkpoint", "checkpoint_format")

DATASET_SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("shapes", "exporters.datasets.shapes:split_from_config", ("split",), example={"split": "eval100"}),
    Source("shapes_subset", "exporters.datasets.shapes:subset_from_config", ("substring",),
           example={"substring": "circle"}),
    Source("shapes_augmentation", "exporters.datasets.shapes:augmentation_from_config", ("kind", "image"),
           example={"kind": "rotation", "image": 0}),
    Source("reference", "exporters.sources.reference:dataset_from_config", ("path",), example={"path": "folder"}),
    Source("reference_copy", "exporters.sources.reference:copy_dataset_from_config", ("path",),
           example={"path": "folder"}),
    Source("coco", "exporters.datasets.coco:from_config", ("annotations", "images"), SAMPLING,
           example={"annotations": "captions_val2017.json", "images": "val2017"}),
    Source("image_folder", "exporters.datasets.folder:from_config", ("images", "captions"),
           ("image_column", "caption_column", *SAMPLING), example={"images": "images", "captions": "captions.csv"}),
    Source("diffusiondb", "exporters.datasets.diffusiondb:from_config", ("archive",), ("metadata", *SAMPLING),
           example={"archive": "part-000001.zip"}),
    Source("triplets", "exporters.datasets.triplets:from_config", ("table",),
           ("image_column", "text_column", "audio_column", *SAMPLING), example={"table": "triplets.csv"}),
    Source("cloome", "exporters.datasets.cloome:from_config", ("table",),
           ("image_pattern", "image_column", "smiles_column", *SAMPLING), example={"table": "cloome.csv"}),
    Source("augmentation", "exporters.datasets.augment:from_config", ("kind",),
           ("image", "caption", "of", "index", "steps", "seed"), check=_image_or_of,
           example={"kind": "rotation", "image": "a.png", "caption": "a photo"}),
)}

MODEL_SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("open_clip", "exporters.sources.openclip:from_config", ("arch",),
           ("pretrained", "checkpoint", "random_init", "checkpoint_format", "trusted_pickle"),
           check=_one_source_of_weights, example={"arch": "ViT-B-32", "random_init": True},
           records=_OPEN_CLIP_RECORDS, records_from_table=("pretrained", "checkpoint"), encodes_text=True),
    Source("cloob_laion", "exporters.sources.checkpoints:cloob_laion_from_config", ("checkpoint",), ("config",),
           example={"checkpoint": "cloob_laion_400m_vit_b_16_16_epochs.pkl"}, records=_OPEN_CLIP_RECORDS,
           encodes_text=True),
    Source("arrays", "exporters.sources.arrays:from_config", ("path",), ("logit_scale",),
           example={"path": "emb_{dataset}.npz"}, records=("source", "path")),
    Source("reference", "exporters.sources.reference:embeddings_from_config", (), ("name", "logit_scale"),
           records=("source", "path")),
    Source("reference_copy", "exporters.sources.reference:copy_embeddings_from_config", (), ("name", "logit_scale"),
           records=("source", "path")),
)}

# -- sections, options, the top level ------------------------------------------------------------------
SECTIONS: dict[str, Role] = {r.name: r for r in (
    Role("main", ("dataset", "models")),            # heatmaps, scatter, comparison (100 pairs)
    Role("world", ("dataset", "models")),           # the chapter on our own trained models (shapes world)
    Role("large", ("dataset", "models")),           # loss table, landscapes, large projections (5000 pairs)
    Role("subset", ("dataset", "models", "substring")),
    Role("augmentations", ("datasets", "models")),  # {kind: dataset id or [ids]}
    Role("triplet", ("dataset", "models")),
    Role("molecules", ("dataset", "models")),
    Role("temperature", ("dataset", "models")),    # our CLIP trained at several temperatures (shapes world)
)}

# [options]: read by the figures through FigureContext.options
OPTIONS: dict[str, str] = {
    "seed_landscapes": "a folder of the seed article's *_loss_landscape.json, shown beside ours",
    "projections": "the projections computed, a list of PCA, UMAP, TSNE",
    "loss_batch_size": "pairs per batch of the InfoNCE loss (default 50)",
}

TOP_LEVEL: dict[str, str] = {
    "title": "the article's title",
    "options": "[options]",
    "datasets": "[datasets.<id>]",
    "models": "[models.<id>]",
    "sections": "[sections.<role>]",
}


def check_keys(at: str, table: dict, allowed: Iterable[str]) -> None:
    """Refuse a key `allowed` does not hold, naming the allowed keys and the nearest one."""
    names = sorted(allowed)
    for key in table:
        if key not in names:
            near = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise UserError(f"{at} has unknown key {key!r}; allowed: {', '.join(names)}{hint}")


def dataset_source(name: str, what: str = "dataset") -> Source:
    if name not in DATASET_SOURCES:
        raise UserError(f"{what}: unsupported source {name!r}; use one of {', '.join(DATASET_SOURCES)}")
    return DATASET_SOURCES[name]


def model_source(name: str, what: str = "model") -> Source:
    if name not in MODEL_SOURCES:
        raise UserError(f"{what}: unsupported source {name!r}; use one of {', '.join(MODEL_SOURCES)}")
    return MODEL_SOURCES[name]
