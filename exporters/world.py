"""Resolve a configuration's ids into datasets and embeddings (cached), the input of every figure."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from exporters.config import ArticleConfig, Entry
from exporters.errors import UserError
from exporters.pairs import EmbeddingSet, PairedDataset


class World:
    """Datasets and embeddings of one build; each computed once per process."""

    def __init__(self, config: ArticleConfig, work_dir: Path | None = None):
        from exporters.cache import cache_root

        self.config = config
        self.work_dir = Path(work_dir) if work_dir else cache_root()  # the one cache (exporters/cache.py)
        self._datasets: dict[str, PairedDataset] = {}
        self._embeddings: dict[tuple[str, str], EmbeddingSet] = {}

    def dataset(self, dataset_id: str) -> PairedDataset:
        if dataset_id not in self._datasets:
            self._datasets[dataset_id] = self._load_dataset(self.config.datasets[dataset_id])
        return self._datasets[dataset_id]

    def embeddings(self, model_id: str, dataset_id: str) -> EmbeddingSet:
        key = (model_id, dataset_id)
        if key not in self._embeddings:
            entry = self.config.models[model_id]
            emb = self._embed(entry, dataset_id)
            self._embeddings[key] = EmbeddingSet(model_id, emb.dataset, emb.blocks, emb.logit_scale,
                                                 {**emb.provenance, "label": entry.label})
        return self._embeddings[key]

    def section(self, role: str) -> tuple[PairedDataset, dict[str, EmbeddingSet]] | None:
        """(dataset, {model id: embeddings}) of a section, or None when the config has no such section."""
        opts = self.config.sections.get(role)
        if opts is None:
            return None
        if "dataset" not in opts:
            raise UserError(f"[sections.{role}] holds several datasets; use World.dataset/embeddings for each")
        ds = self.dataset(opts["dataset"])
        return ds, {m: self.embeddings(m, opts["dataset"]) for m in opts["models"]}

    def provenance(self) -> list[dict]:
        """Where every embedding used so far came from: model source, weights id, dataset, size.

        Paths are reduced to file names and run-dependent fields (cache hits) left out, so the
        record is the same for the same inputs wherever the build runs.
        """
        rows = []
        for (model_id, dataset_id), emb in sorted(self._embeddings.items()):
            entry = self.config.models[model_id]
            keep = {k: v for k, v in emb.provenance.items()
                    if k in ("source", "arch", "weights", "open_clip", "torch", "checkpoint_format", "data")}
            for k in ("path", "checkpoint"):
                if k in emb.provenance:
                    keep[k] = Path(str(emb.provenance[k])).name
            if entry.source == "open_clip":
                if "pretrained" in entry.options:
                    keep["pretrained"] = entry.options["pretrained"]
                if "checkpoint" in entry.options:
                    keep["checkpoint"] = Path(str(entry.options["checkpoint"])).name
            rows.append({"model": model_id, "label": entry.label, "dataset": dataset_id,
                         "dataset_version": emb.dataset, "pairs": int(next(iter(emb.blocks.values())).shape[0]),
                         "logit_scale": emb.logit_scale, **dict(sorted(keep.items()))})
        return rows

    def label(self, model_id: str) -> str:
        return self.config.models[model_id].label

    # -- sources ------------------------------------------------------------------------------------
    def _image_dir(self) -> Path:
        return self.work_dir / "images"

    def _load_dataset(self, e: Entry) -> PairedDataset:
        if e.source == "reference":
            from exporters.sources.reference import reference_dataset

            return reference_dataset(self.config.resolve(e.options["path"]))
        if e.source == "reference_copy":
            from exporters.sources.reference import copy_dataset

            return copy_dataset(self.config.resolve(e.options["path"]))
        if e.source.startswith("shapes"):
            from exporters.datasets import shapes

            if e.source == "shapes":
                return shapes.shapes_dataset(e.options["split"], self._image_dir())
            if e.source == "shapes_subset":
                return shapes.shapes_subset(e.options["substring"], self._image_dir())
            return shapes.shapes_augmentation(e.options["kind"], int(e.options["image"]), self._image_dir())
        if e.source in _FILE_DATASETS:
            return self._load_file_dataset(e)
        raise UserError(f"dataset {e.id}: unsupported source {e.source!r}")

    def _load_file_dataset(self, e: Entry) -> PairedDataset:
        """Datasets read from users' files (exporters/datasets/{coco,folder,diffusiondb,triplets,cloome,augment})."""
        from exporters.datasets.common import check_options

        o, where = e.options, f"{self.config.path}: [datasets.{e.id}]"
        check_options(where, o, _FILE_DATASETS[e.source])
        path = lambda key: self.config.resolve(str(o[key])) if key in o else None  # noqa: E731
        pick = {k: o[k] for k in ("sample", "seed") if k in o}
        if e.source == "coco":
            from exporters.datasets.coco import coco_dataset

            return coco_dataset(path("annotations"), path("images"), **pick)
        if e.source == "image_folder":
            from exporters.datasets.folder import folder_dataset

            return folder_dataset(path("images"), path("captions"), image_column=o.get("image_column"),
                                  caption_column=o.get("caption_column"), **pick)
        if e.source == "diffusiondb":
            from exporters.datasets.diffusiondb import diffusiondb_dataset

            return diffusiondb_dataset(path("archive"), self._image_dir(), path("metadata"), **pick)
        if e.source == "triplets":
            from exporters.datasets.triplets import triplet_dataset

            return triplet_dataset(path("table"), image_column=o.get("image_column"), text_column=o.get("text_column"),
                                   audio_column=o.get("audio_column"), **pick)
        if e.source == "cloome":
            from exporters.datasets.cloome import cloome_dataset

            return cloome_dataset(path("table"), image_column=o.get("image_column"),
                                  smiles_column=o.get("smiles_column"), image_pattern=o.get("image_pattern"), **pick)
        from exporters.datasets.augment import augmentation_dataset

        if "of" in o:
            if "image" in o or "caption" in o or "index" not in o:
                raise UserError(f"{where}: give either `of` (a dataset id) with `index`, or `image` with `caption`")
            if o["of"] not in self.config.datasets or o["of"] == e.id:
                raise UserError(f"{where}: `of` names dataset {o['of']!r}, not defined; "
                                f"defined: {', '.join(d for d in self.config.datasets if d != e.id)}")
            base, i = self.dataset(o["of"]), int(o["index"])
            if not 0 <= i < len(base):
                raise UserError(f"{where}: index {i} is outside dataset {o['of']} (0..{len(base) - 1})")
            kinds = {m.kind: m for m in base.modalities}
            if "image" not in kinds or "text" not in kinds:
                raise UserError(f"{where}: dataset {o['of']} needs an image and a text modality to augment")
            image, caption, name = kinds["image"].items[i], kinds["text"].items[i], f"{o['of']}_{base.ids[i]}"
        else:
            if "image" not in o or "caption" not in o:
                raise UserError(f"{where}: give `image` (a file) and `caption`, or `of` (a dataset id) and `index`")
            image, caption, name = path("image"), str(o["caption"]), None
        return augmentation_dataset(image, caption, o["kind"], self._image_dir(), steps=o.get("steps", 100),
                                    seed=o.get("seed", 31415), name=name)

    def _embed(self, e: Entry, dataset_id: str) -> EmbeddingSet:
        ds = self.dataset(dataset_id)
        if e.source == "reference":
            from exporters.sources.reference import reference_embeddings

            d_entry = self.config.datasets[dataset_id]
            if d_entry.source != "reference":
                raise UserError(f"model {e.id}: a reference model only has similarities for reference datasets, "
                                f"not {dataset_id!r}")
            name = e.options.get("name", e.id)
            emb = reference_embeddings(self.config.resolve(d_entry.options["path"]), name, ds)
            if "logit_scale" in e.options:
                emb = EmbeddingSet(emb.model, emb.dataset, emb.blocks, float(e.options["logit_scale"]), emb.provenance)
            return emb
        if e.source == "reference_copy":
            from exporters.sources.reference import copy_embeddings

            d_entry = self.config.datasets[dataset_id]
            if d_entry.source != "reference_copy":
                raise UserError(f"model {e.id}: a reference_copy model only has similarities for reference_copy "
                                f"datasets, not {dataset_id!r}")
            emb = copy_embeddings(self.config.resolve(d_entry.options["path"]), e.options.get("name", e.id), ds)
            if "logit_scale" in e.options:
                emb = EmbeddingSet(emb.model, emb.dataset, emb.blocks, float(e.options["logit_scale"]), emb.provenance)
            return emb
        if e.source == "arrays":
            from exporters.sources.arrays import embeddings_from_arrays

            path = self.config.resolve(str(e.options["path"]).format(dataset=dataset_id))
            return embeddings_from_arrays(path, ds, e.id, e.options.get("logit_scale"))
        if e.source == "open_clip" and e.options.get("checkpoint_format", "open_clip") != "open_clip":
            from exporters.sources.checkpoints import converted_source

            if "checkpoint" not in e.options:
                raise UserError(f"model {e.id}: checkpoint_format needs a `checkpoint` file")
            return converted_source(e.id, e.options["arch"], str(self.config.resolve(e.options["checkpoint"])),
                                    e.options["checkpoint_format"], bool(e.options.get("trusted_pickle", False))
                                    ).embed(ds, self.work_dir / "embeddings")
        if e.source == "cloob_laion":
            from exporters.sources.checkpoints import cloob_laion_source

            cfg = None
            if "config" in e.options:  # a cloob-training pretrained_configs/*.json (default: the ViT-B/16 one)
                import json

                cfg_path = self.config.resolve(str(e.options["config"]))
                try:
                    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    raise UserError(f"{cfg_path}: not a readable cloob-training config ({type(exc).__name__})") from None
            return cloob_laion_source(e.id, str(self.config.resolve(e.options["checkpoint"])), cfg
                                      ).embed(ds, self.work_dir / "embeddings")
        if e.source == "open_clip":
            return _open_clip_source(e.id, e.options["arch"], e.options.get("pretrained"),
                                     str(self.config.resolve(e.options["checkpoint"])) if "checkpoint" in e.options else None,
                                     e.options.get("random_init") is True
                                     ).embed(ds, self.work_dir / "embeddings")
        raise UserError(f"model {e.id}: unsupported source {e.source!r}")


_COMMON = {"sample", "seed"}
_FILE_DATASETS = {
    "coco": {"annotations", "images"} | _COMMON,
    "image_folder": {"images", "captions", "image_column", "caption_column"} | _COMMON,
    "diffusiondb": {"archive", "metadata"} | _COMMON,
    "triplets": {"table", "image_column", "text_column", "audio_column"} | _COMMON,
    "cloome": {"table", "image_column", "smiles_column", "image_pattern"} | _COMMON,
    "augmentation": {"kind", "image", "caption", "of", "index", "steps", "seed"},
}


@cache
def _open_clip_source(name: str, arch: str, pretrained: str | None, checkpoint: str | None,
                      random_init: bool = False):
    from exporters.sources.openclip import OpenClipSource

    return OpenClipSource(arch, pretrained=pretrained, checkpoint=checkpoint, name=name, random_init=random_init)
