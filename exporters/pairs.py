"""The two records every stage passes on: a paired dataset, and its embeddings under one model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from exporters.errors import UserError

KINDS = ("image", "text", "audio", "molecule")


def _file_sha256(path: str) -> str:
    import hashlib

    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror}); the dataset names it as an item") from None


@dataclass(frozen=True)
class Modality:
    """One column of a paired dataset.

    name: key used in matrices and JSON ('image', 'text', 'audio', ...).
    kind: how an item is shown on hover: 'image' and 'audio' items are file paths, 'text' and
          'molecule' (SMILES) items are strings.
    label: what the article calls it ('Image', 'BioImage', 'Molecule', ...).
    """

    name: str
    kind: str
    label: str
    items: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"modality {self.name!r}: unknown kind {self.kind!r}; use one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class ClassTask:
    """Class labels of one modality's items and a prompt per class: what zero-shot classification needs.

    prompts[c] holds one or more texts for class c; a model's class embedding is the normalised mean
    of their normalised embeddings (prompt ensembling, Radford et al. 2021, section 3.1.4).
    labels[i] is the class of item i of modality `of`.
    """

    name: str                          # key in JSON, e.g. 'shape'
    label: str                         # what the article calls it, e.g. 'shape of the main object'
    classes: tuple[str, ...]
    prompts: tuple[tuple[str, ...], ...]
    labels: tuple[int, ...]
    of: str = "image"

    def __post_init__(self) -> None:
        if len(self.classes) < 2 or len(self.prompts) != len(self.classes) or not all(self.prompts):
            raise UserError(f"class task {self.name!r}: needs two or more classes, each with one or more prompts")
        bad = [i for i, c in enumerate(self.labels) if not 0 <= c < len(self.classes)]
        if bad:
            raise UserError(f"class task {self.name!r}: item #{bad[0]} has label {self.labels[bad[0]]}, "
                            f"outside 0..{len(self.classes) - 1}")

    def flat_prompts(self) -> list[str]:
        return [t for texts in self.prompts for t in texts]


@dataclass(frozen=True)
class PairedDataset:
    """n items, each seen in every modality (row i of every modality belongs together)."""

    id: str                          # snake_case id with a version, e.g. 'shapes_v1_eval100'
    ids: tuple[str, ...]             # one stable id per item
    modalities: tuple[Modality, ...]
    description: str = ""
    extra: dict = field(default_factory=dict, compare=False)
    tasks: tuple[ClassTask, ...] = field(default=(), compare=False)   # zero-shot labels, where the data has them

    def __post_init__(self) -> None:
        n = len(self.ids)
        for t in self.tasks:
            if t.of not in self.names or len(t.labels) != n:
                raise UserError(f"dataset {self.id}: class task {t.name!r} needs one label per item of a "
                                f"modality of the dataset ({len(t.labels)} labels of {t.of!r}, {n} pairs)")
        for m in self.modalities:
            if len(m.items) != n:
                raise UserError(f"dataset {self.id}: modality {m.name!r} has {len(m.items)} items but "
                                f"there are {n} item ids; every modality needs one entry per pair")
        if len(set(self.ids)) != n:
            raise UserError(f"dataset {self.id}: item ids are not unique")

    def __len__(self) -> int:
        return len(self.ids)

    def modality(self, name: str) -> Modality:
        for m in self.modalities:
            if m.name == name:
                return m
        raise UserError(f"dataset {self.id}: no modality {name!r}; it has {', '.join(self.names)}")

    @property
    def names(self) -> list[str]:
        return [m.name for m in self.modalities]

    def content_groups(self, name: str) -> "np.ndarray":
        """Labels of identical content within one modality: equal text, or equal file bytes for
        image and audio items. Retrieval counts identical content as one answer (analysis/retrieval.py)."""
        from exporters.analysis.retrieval import content_groups

        m = self.modality(name)
        if m.kind in ("image", "audio"):
            keys = [_file_sha256(p) for p in m.items]
        else:
            keys = list(m.items)
        return content_groups(keys)

    def subset(self, indices: list[int], suffix: str) -> "PairedDataset":
        """The pairs at `indices`, as a dataset of its own (id gets `suffix`)."""
        mods = tuple(Modality(m.name, m.kind, m.label, tuple(m.items[i] for i in indices))
                     for m in self.modalities)
        tasks = tuple(ClassTask(t.name, t.label, t.classes, t.prompts, tuple(t.labels[i] for i in indices), t.of)
                      for t in self.tasks)
        return PairedDataset(f"{self.id}_{suffix}", tuple(self.ids[i] for i in indices), mods,
                             self.description, dict(self.extra), tasks)


@dataclass(frozen=True)
class EmbeddingSet:
    """L2-normalized embeddings of one dataset under one model, one (n, d) block per modality."""

    model: str
    dataset: str
    blocks: dict[str, np.ndarray]
    logit_scale: float | None = None     # exp(model.logit_scale), e.g. 100 for OpenAI CLIP
    provenance: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # one dtype from here on, whatever the source gave: every analysis computes in float64
        blocks = {k: np.ascontiguousarray(v, dtype=np.float64) for k, v in self.blocks.items()}
        object.__setattr__(self, "blocks", blocks)

    @property
    def names(self) -> list[str]:
        return list(self.blocks)

    def pair(self, a: str | None = None, b: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Two modalities' blocks; by default the first two (image, text)."""
        names = self.names
        a, b = a or names[0], b or names[1]
        return self.blocks[a], self.blocks[b]
