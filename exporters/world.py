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
        self.config = config
        self.work_dir = Path(work_dir or ".cache")
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
        ds = self.dataset(opts["dataset"])
        return ds, {m: self.embeddings(m, opts["dataset"]) for m in opts["models"]}

    def label(self, model_id: str) -> str:
        return self.config.models[model_id].label

    # -- sources ------------------------------------------------------------------------------------
    def _image_dir(self) -> Path:
        return self.work_dir / "images"

    def _load_dataset(self, e: Entry) -> PairedDataset:
        if e.source == "reference":
            from exporters.sources.reference import reference_dataset

            return reference_dataset(self.config.resolve(e.options["path"]))
        if e.source.startswith("shapes"):
            from exporters.datasets import shapes

            if e.source == "shapes":
                return shapes.shapes_dataset(e.options["split"], self._image_dir())
            if e.source == "shapes_subset":
                return shapes.shapes_subset(e.options["substring"], self._image_dir())
            return shapes.shapes_augmentation(e.options["kind"], int(e.options["image"]), self._image_dir())
        raise UserError(f"dataset {e.id}: unsupported source {e.source!r}")

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
        if e.source == "arrays":
            from exporters.sources.arrays import embeddings_from_arrays

            path = self.config.resolve(str(e.options["path"]).format(dataset=dataset_id))
            return embeddings_from_arrays(path, ds, e.id, e.options.get("logit_scale"))
        if e.source == "open_clip":
            return _open_clip_source(e.id, e.options["arch"], e.options.get("pretrained"),
                                     str(self.config.resolve(e.options["checkpoint"])) if "checkpoint" in e.options else None
                                     ).embed(ds, self.work_dir / "embeddings")
        raise UserError(f"model {e.id}: unsupported source {e.source!r}")


@cache
def _open_clip_source(name: str, arch: str, pretrained: str | None, checkpoint: str | None):
    from exporters.sources.openclip import OpenClipSource

    return OpenClipSource(arch, pretrained=pretrained, checkpoint=checkpoint, name=name)
