"""The shapes world: deterministic, captions that tell the truth about their images, honest splits."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from exporters.datasets import shapes
from exporters.datasets.shapes import (AUG_STEPS, BACKGROUNDS, COLOURS, POSITION_WORDS, SHAPE_WORDS, SIZE_WORDS,
                                       SHAPES_VERSION, draw_scene, make_scene, render_pair, shapes_augmentation,
                                       shapes_dataset, shapes_subset)
from exporters.errors import UserError
from exporters.pairs import PairedDataset

WORD_TO_SHAPE = {w: s for s, forms in SHAPE_WORDS.items() for pair in forms for w in pair}


@pytest.fixture(scope="module")
def eval100(tmp_path_factory):
    return shapes_dataset("eval100", tmp_path_factory.mktemp("imgs"))


def test_scenes_and_images_are_deterministic():
    for i in (0, 7, 4999):
        assert make_scene(i, "eval5000") == make_scene(i, "eval5000")
        a, ca = render_pair(i, "eval5000")
        b, cb = render_pair(i, "eval5000")
        assert ca == cb and a.tobytes() == b.tobytes()
    # train and evaluation draw from different streams
    assert [make_scene(i, "train").caption for i in range(20)] != [make_scene(i, "eval5000").caption for i in range(20)]


def test_png_files_are_byte_identical_across_runs(tmp_path, eval100):
    again = shapes_dataset("eval100", tmp_path)
    for p, q in zip(eval100.modality("image").items[:20], again.modality("image").items[:20]):
        assert open(p, "rb").read() == open(q, "rb").read()
    assert eval100.modality("text").items == again.modality("text").items


def test_existing_files_are_not_rewritten(tmp_path):
    ds = shapes_dataset("eval100", tmp_path)
    path = ds.modality("image").items[3]
    with open(path, "wb") as f:
        f.write(b"sentinel")
    shapes_dataset("eval100", tmp_path)
    assert open(path, "rb").read() == b"sentinel"


def _check_caption(scene):
    words = re.findall(r"[a-z]+", scene.caption)
    main = scene.objects[0]
    colours = {o.colour for o in scene.objects}
    shapes_in = {o.shape for o in scene.objects}
    mentioned_shapes = [WORD_TO_SHAPE[w] for w in words if w in WORD_TO_SHAPE]
    assert mentioned_shapes and mentioned_shapes[0] == main.shape, scene
    assert set(mentioned_shapes) <= shapes_in, scene
    assert {w for w in words if w in COLOURS} <= colours, scene
    claimed = 3 if "three" in words else 2 if ("two" in words or "pair" in words) else 1
    assert claimed == scene.count, scene
    sizes = {o.size for o in scene.objects}
    for size, syn in SIZE_WORDS.items():
        if any(w in words for w in syn):
            assert size in sizes, scene
    for cell, phrases in POSITION_WORDS.items():
        if any(p in scene.caption for p in phrases):
            assert scene.count == 1 and scene.position == cell or any(
                p in scene.caption for c2, ps in POSITION_WORDS.items() if c2 == scene.position for p in ps), scene
    if "background" in words:
        bg_word = words[words.index("background") - 1]
        assert bg_word in shapes.BACKGROUND_WORDS[scene.background], scene


def test_captions_agree_with_scenes():
    for i in range(400):
        _check_caption(make_scene(i, "eval5000"))
        _check_caption(make_scene(i, "train"))


def test_pixels_agree_with_scenes():
    for i in range(200):
        scene = make_scene(i, "eval5000")
        a = np.asarray(draw_scene(scene), dtype=int)
        # the most common colour is the background
        flat = a.reshape(-1, 3)
        values, counts = np.unique(flat, axis=0, return_counts=True)
        assert tuple(values[counts.argmax()]) == BACKGROUNDS[scene.background]
        # every object's centre has the object's colour
        for o in scene.objects:
            px = a[int(round(o.cy)), int(round(o.cx))]
            assert np.abs(px - np.array(COLOURS[o.colour])).max() <= 12, (i, o)
        # the main object of a single-object scene sits in the grid cell its position names
        if scene.count == 1:
            col, row = int(scene.objects[0].cx // (64 / 3)), int(scene.objects[0].cy // (64 / 3))
            assert shapes.GRID[row * 3 + col] == scene.position


def test_captions_are_ambiguous_like_coco():
    caps = [make_scene(i, "eval5000").caption for i in range(5000)]
    # many captions omit size or position, so several images share one caption (retrieval is not trivial)
    assert len(set(caps)) < 4900
    assert sum("background" not in c for c in caps) > 2000


def test_splits(eval100):
    assert isinstance(eval100, PairedDataset) and len(eval100) == 100
    assert eval100.id == f"shapes_{SHAPES_VERSION}_eval100"
    assert eval100.names == ["image", "text"]
    img, txt = eval100.modality("image"), eval100.modality("text")
    assert (img.kind, img.label, txt.kind, txt.label) == ("image", "Image", "text", "Text")
    assert txt.items[5] == make_scene(5, "eval5000").caption
    im = Image.open(img.items[5])
    assert im.size == (64, 64) and im.tobytes() == render_pair(5, "eval5000")[0].tobytes()
    assert shapes.SPLITS == {"train": 50_000, "eval5000": 5000, "eval100": 100}


def test_bad_names_raise_user_errors(tmp_path):
    with pytest.raises(UserError, match="eval5000"):
        shapes_dataset("val", tmp_path)
    with pytest.raises(UserError, match="rotation"):
        shapes_augmentation("shear", 0, tmp_path)
    with pytest.raises(UserError):
        shapes_augmentation("blur", 5000, tmp_path)
    with pytest.raises(UserError):
        shapes_subset("no such words here", tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UserError, match="cannot write"):
        shapes_dataset("eval100", blocker / "sub")


def test_subset_by_substring(tmp_path):
    ds = shapes_subset("red circle", tmp_path)
    texts = ds.modality("text").items
    assert 0 < len(ds) <= 100 and all("red circle" in t for t in texts)
    assert ds.id == f"shapes_{SHAPES_VERSION}_subset_red_circle"
    assert shapes_subset("red circle", tmp_path).ids == ds.ids
    assert len(shapes_subset("a", tmp_path)) == 100          # capped


@pytest.mark.parametrize("kind", shapes.AUGMENTATIONS)
def test_augmentation_series(tmp_path, kind):
    ds = shapes_augmentation(kind, 3, tmp_path)
    assert len(ds) == AUG_STEPS and ds.id == f"shapes_{SHAPES_VERSION}_{kind}_00003"
    caption = make_scene(3, "eval5000").caption
    assert set(ds.modality("text").items) == {caption}
    frames = [np.asarray(Image.open(p), dtype=float) for p in ds.modality("image").items]
    base = np.asarray(render_pair(3, "eval5000")[0], dtype=float)
    assert np.array_equal(frames[0], base)
    diff = [np.abs(f - base).mean() for f in frames]
    if kind in ("noise", "blur"):          # monotone-ish growth of the change
        assert diff[99] > diff[50] > diff[10] > 0
    if kind == "rotation":                 # a quarter turn is a (near) exact pixel rotation
        assert np.abs(frames[25] - np.rot90(base, 1)).mean() < np.abs(frames[12] - base).mean()
    if kind == "hshift":
        assert np.array_equal(frames[50], np.roll(base, 32, axis=1))
    if kind == "vshift":
        assert np.array_equal(frames[50], np.roll(base, 32, axis=0))


def test_tokenizer_covers_every_caption():
    from exporters.model_configs import tokenizer_for
    tok = tokenizer_for("ShapesViT-T-32")
    caps = [make_scene(i, "train").caption for i in range(3000)] + [make_scene(i, "eval5000").caption for i in range(3000)]
    ids = tok(caps)
    assert ids.shape == (6000, tok.context_length)
    assert not (ids == tok.unk).any()
    assert (ids.argmax(dim=1) == (ids != 0).sum(dim=1) - 1).all()     # <eot> is the argmax, last token
    assert tokenizer_for("ViT-B-32") is None
