"""Real data's warts: a prompts file that disagrees with its matrices, and identical captions."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from conftest import ROOT, unit_rows
from exporters.analysis.metrics import gap_metrics
from exporters.analysis.retrieval import content_groups, recall_at_k
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset
from exporters.sources.reference import copy_dataset, reference_dataset

COPY = ROOT / "data" / "seed-article"


def _raw_folder(tmp_path, prompts: str):
    """A reference-format folder of 3 pairs (images, prompts.txt, one similarity matrix)."""
    from PIL import Image

    root = tmp_path / "MSCOCO-Val_size-3"
    (root / "images").mkdir(parents=True)
    (root / "similarities").mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(root / "images" / f"{i}.jpg")
    e = unit_rows(np.random.default_rng(0), 6, 4)
    np.savetxt(root / "similarities" / "M.csv", e @ e.T, delimiter=",")
    (root / "prompts.txt").write_text(prompts, encoding="utf-8")
    return root


def test_stray_empty_line_in_reference_prompts_is_named(tmp_path):
    root = _raw_folder(tmp_path, "a cat\n\na dog\na bird\n")
    with pytest.raises(UserError) as exc:
        reference_dataset(root)
    msg = str(exc.value)
    assert "4 lines" in msg and "6 rows" in msg and "3 items" in msg and "line 2 is empty" in msg
    assert "missing image" not in msg and "\n" not in msg


def test_reference_prompts_with_one_line_too_few_give_both_counts(tmp_path):
    root = _raw_folder(tmp_path, "a cat\na dog\n")
    with pytest.raises(UserError, match=r"2 lines, but similarities/M.csv has 6 rows = 2 modalities x 3 items$"):
        reference_dataset(root)


def test_stray_empty_line_in_the_copy_is_named(tmp_path):
    folder = tmp_path / "MSCOCO-Val_size-100"
    shutil.copytree(COPY / "MSCOCO-Val_size-100", folder)
    lines = (folder / "prompts.txt").read_text(encoding="utf-8").split("\n")
    lines.insert(40, "")
    (folder / "prompts.txt").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(UserError, match=r"101 lines, but similarities.npz\[\w+\] has 200 rows = 2 modalities x "
                                        r"100 items; line 41 is empty"):
        copy_dataset(folder)


def test_exact_duplicate_captions_do_not_make_recall_depend_on_noise():
    # two images share one prompt (as in DiffusionDB): captions 2 and 3 are the same text, so their vectors
    # are the same up to the noise of encoding; image 2 leans one way off the caption, image 3 the other
    rng = np.random.default_rng(1)
    y = unit_rows(rng, 6, 8)
    y[3] = y[2]
    u = rng.normal(size=8)
    u -= (u @ y[2]) * y[2]
    u /= np.linalg.norm(u)
    x = y.copy()
    x[2] = (y[2] + 0.1 * u) / np.linalg.norm(y[2] + 0.1 * u)
    x[3] = (y[2] - 0.1 * u) / np.linalg.norm(y[2] - 0.1 * u)
    groups = content_groups(["a", "b", "c", "c", "d", "e"])
    assert groups.tolist() == [0, 1, 2, 2, 3, 4]
    with_groups, without = set(), set()
    for eps in (1e-12, -1e-12, 1e-7, -1e-7, 0.0):
        noisy = y.copy()
        noisy[3] = (y[2] + eps * u) / np.linalg.norm(y[2] + eps * u)
        with_groups.add(recall_at_k(x, noisy, (1,), content_groups(range(6)), groups)["x2y@1"])
        without.add(recall_at_k(x, noisy, (1,))["x2y@1"])
    assert with_groups == {1.0}            # either copy of the caption is the right answer
    assert len(without) > 1                # the ambiguity the content groups remove: noise decides


def test_dataset_content_groups_use_text_and_file_bytes(tmp_path):
    from PIL import Image

    paths = []
    for i, colour in enumerate([(1, 2, 3), (1, 2, 3), (9, 9, 9)]):
        p = tmp_path / f"{i}.png"
        Image.new("RGB", (4, 4), colour).save(p)
        paths.append(str(p))
    ds = PairedDataset("t", ("0", "1", "2"), (Modality("image", "image", "Image", tuple(paths)),
                                              Modality("text", "text", "Text", ("x", "y", "x"))))
    assert ds.content_groups("image").tolist() == [0, 0, 1]
    assert ds.content_groups("text").tolist() == [0, 1, 0]


def test_gap_metrics_count_identical_captions_as_one_answer():
    rng = np.random.default_rng(2)
    x = unit_rows(rng, 5, 6)
    y = np.repeat(unit_rows(rng, 1, 6), 5, axis=0)   # one caption repeated, as in an augmentation set
    y[4] = y[4] + 1e-9
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    m = gap_metrics(x, y, 30.0, 5, (content_groups(range(5)), content_groups(["same"] * 5)))
    assert m["original"]["x2y@1"] == 1.0
