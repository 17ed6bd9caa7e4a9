"""Resolve a configuration's ids into datasets and embeddings (cached), the input of every figure."""

from __future__ import annotations

from pathlib import Path

from exporters import registry
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

    def class_embeddings(self, model_id: str, dataset_id: str) -> dict[str, "np.ndarray"] | None:
        """{task name: (classes, d) unit class embeddings} for the dataset's zero-shot tasks (PairedDataset.tasks),
        or None when the model's source cannot embed new text (precomputed embeddings and similarities).

        The prompts are embedded like any dataset (same model, same cache), as a text-only dataset of their own;
        a class's embedding is the normalised mean of its prompts' (ensembling)."""
        import numpy as np

        from exporters.analysis.normalize import l2_normalize
        from exporters.pairs import Modality, PairedDataset

        ds = self.dataset(dataset_id)
        entry = self.config.models[model_id]
        if not ds.tasks or not registry.model_source(entry.source, f"model {model_id}").encodes_text:
            return None
        out = {}
        for t in ds.tasks:
            prompts = t.flat_prompts()
            pid = f"{dataset_id}#prompts-{t.name}"
            if pid not in self._datasets:
                self._datasets[pid] = PairedDataset(
                    f"{ds.id}_prompts_{t.name}", tuple(f"{t.name}-{i:03d}" for i in range(len(prompts))),
                    (Modality("text", "text", "Text", tuple(prompts)),),
                    description=f"zero-shot prompts of {ds.id}, task {t.name}")
            block = self._embed(entry, pid).blocks["text"]
            starts = np.cumsum([0] + [len(p) for p in t.prompts])
            means = np.stack([block[a:b].mean(axis=0) for a, b in zip(starts[:-1], starts[1:])])
            out[t.name] = l2_normalize(means, f"{model_id}: class embeddings of {ds.id}:{t.name}")
        return out

    def provenance(self) -> list[dict]:
        """Where every embedding used so far came from: model source, weights id, dataset, size.

        Each model source declares what is kept (exporters/registry.py `records`). Paths are reduced
        to file names and run-dependent fields (cache hits) left out, so the record is the same for
        the same inputs wherever the build runs.
        """
        rows = []
        for (model_id, dataset_id), emb in sorted(self._embeddings.items()):
            entry = self.config.models[model_id]
            src = registry.model_source(entry.source, f"model {model_id}")
            keep = {k: v for k, v in emb.provenance.items() if k in src.records}
            keep |= {k: entry.options[k] for k in src.records_from_table if k in entry.options}
            for k in registry.FILE_RECORDS:
                if k in keep:
                    keep[k] = Path(str(keep[k])).name
            rows.append({"model": model_id, "label": entry.label, "dataset": dataset_id,
                         "dataset_version": emb.dataset, "pairs": int(next(iter(emb.blocks.values())).shape[0]),
                         "logit_scale": emb.logit_scale, **dict(sorted(keep.items()))})
        return rows

    def label(self, model_id: str) -> str:
        return self.config.models[model_id].label

    # -- what the sources' loaders use (exporters/registry.py) ---------------------------------------
    def resolve(self, value: object) -> Path:
        """A path of the configuration, relative to its file."""
        return self.config.resolve(str(value))

    @property
    def image_dir(self) -> Path:
        """Where generated and extracted images go (inside the cache)."""
        return self.work_dir / "images"

    @property
    def embedding_dir(self) -> Path:
        return self.work_dir / "embeddings"

    def where(self, entry: Entry, kind: str = "datasets") -> str:
        """How messages name a table: `<file>: [datasets.<id>]` (or `[models.<id>]`)."""
        return f"{self.config.path}: [{kind}.{entry.id}]"

    def _load_dataset(self, e: Entry) -> PairedDataset:
        return registry.dataset_source(e.source, f"dataset {e.id}").load()(self, e)

    def _embed(self, e: Entry, dataset_id: str) -> EmbeddingSet:
        return registry.model_source(e.source, f"model {e.id}").load()(self, e, dataset_id)
