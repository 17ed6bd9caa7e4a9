"""Loaders of users' and published files: COCO captions, image folders, DiffusionDB parts."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from _standins import image, write_coco, write_diffusiondb, write_images

from exporters.datasets.coco import coco_dataset, read_coco_captions
from exporters.datasets.common import sample_indices
from exporters.datasets.diffusiondb import diffusiondb_dataset
from exporters.datasets.folder import folder_dataset
from exporters.errors import UserError


# -- sampling ---------------------------------------------------------------------------------------
def test_sampler_is_the_seed_articles():
    # amumo: np.random.seed(seed); arr = np.random.rand(n); arr.argsort()[:k]
    np.random.seed(31415)
    expected = np.random.rand(5000).argsort()[:100].tolist()
    assert sample_indices(5000, 100, 31415, "x") == expected
    assert sample_indices(7, None, 0, "x") == list(range(7))
    assert sample_indices(50, 10, 1, "x") != sample_indices(50, 10, 2, "x")
    with pytest.raises(UserError, match="only 5 pairs"):
        sample_indices(5, 6, 0, "caps.csv")


# -- COCO -------------------------------------------------------------------------------------------
def test_coco_first_caption_file_order_and_sample(tmp_path):
    ann, imgs = write_coco(tmp_path, 30)
    pool = read_coco_captions(ann)
    data = json.loads(ann.read_text())
    assert [p[0] for p in pool] == [im["id"] for im in data["images"]]        # file order, not sorted
    assert all(cap == f"{iid} first caption" for iid, _, cap in pool)         # first annotation, whitespace normalized
    full = coco_dataset(ann, imgs)
    assert len(full) == 30 and full.ids[0] == str(data["images"][0]["id"])
    s1, s2 = coco_dataset(ann, imgs, sample=10), coco_dataset(ann, imgs, sample=10)
    assert s1 == s2 and len(s1) == 10
    assert list(s1.ids) == [str(pool[i][0]) for i in sample_indices(30, 10, 31415, "")]
    assert s1.id != full.id and "seed31415" in s1.id
    for path, cap, iid in zip(s1.modality("image").items, s1.modality("text").items, s1.ids):
        assert path.endswith(f"{int(iid):012d}.jpg") and cap.startswith(iid)


def test_coco_bad_inputs_name_the_file(tmp_path):
    ann, imgs = write_coco(tmp_path, 5)
    other = tmp_path / "train2017"
    write_images(other, ["x.jpg"])
    with pytest.raises(UserError, match=r"train2017: none of the 5 images"):
        coco_dataset(ann, other)
    with pytest.raises(UserError, match="COCO image folder not found"):
        coco_dataset(ann, tmp_path / "nope")
    inst = tmp_path / "instances_val2017.json"
    inst.write_text(json.dumps({"images": [], "categories": []}))
    with pytest.raises(UserError, match="instances_val2017.json: not a COCO captions file"):
        coco_dataset(inst, imgs)
    (imgs / sorted(p.name for p in imgs.iterdir())[0]).write_bytes(b"not a jpeg")
    with pytest.raises(UserError, match="not a readable image"):
        coco_dataset(ann, imgs)
    with pytest.raises(UserError, match="sample = 9 but only 5"):
        coco_dataset(ann, imgs, sample=9)


# -- plain folders ----------------------------------------------------------------------------------
def test_folder_csv_json_txt_agree(tmp_path):
    names = ["b.png", "a.jpg", "c.png"]
    write_images(tmp_path / "imgs", names)
    caps = {"a.jpg": "an apple", "b.png": "a banana", "c.png": "a cherry"}
    (tmp_path / "caps.csv").write_text("file_name,caption\n" + "".join(f"{k},{v}\n" for k, v in caps.items()))
    (tmp_path / "caps.json").write_text(json.dumps([{"image": k, "text": v} for k, v in caps.items()]))
    (tmp_path / "map.json").write_text(json.dumps(caps))
    (tmp_path / "caps.txt").write_text("an apple\na banana\na cherry\n")   # sorted file-name order
    sets = [folder_dataset(tmp_path / "imgs", tmp_path / f) for f in ("caps.csv", "caps.json", "map.json", "caps.txt")]
    for ds in sets:
        assert ds.ids == ("a.jpg", "b.png", "c.png")
        assert ds.modality("text").items == ("an apple", "a banana", "a cherry")
        assert ds.modality("image").items[1].endswith("b.png")
    assert len({ds.id for ds in sets}) == 1


def test_folder_row_count_and_missing_files(tmp_path):
    write_images(tmp_path / "imgs", ["a.png", "b.png", "c.png"])
    (tmp_path / "two.txt").write_text("one\ntwo\n")
    with pytest.raises(UserError, match=r"two.txt: 2 caption lines but .*imgs holds 3 images"):
        folder_dataset(tmp_path / "imgs", tmp_path / "two.txt")
    (tmp_path / "two.csv").write_text("image,caption\na.png,x\nb.png,y\n")
    with pytest.raises(UserError, match=r"two.csv: 2 caption rows but .*3 images"):
        folder_dataset(tmp_path / "imgs", tmp_path / "two.csv")
    (tmp_path / "typo.csv").write_text("image,caption\na.png,x\nb.png,y\nd.png,z\n")
    with pytest.raises(UserError, match=r"d.png: named in .*typo.csv row 4"):
        folder_dataset(tmp_path / "imgs", tmp_path / "typo.csv")
    (tmp_path / "nocol.csv").write_text("picture,words\na.png,x\nb.png,y\nc.png,z\n")
    with pytest.raises(UserError, match="nocol.csv: no image column"):
        folder_dataset(tmp_path / "imgs", tmp_path / "nocol.csv")
    assert folder_dataset(tmp_path / "imgs", tmp_path / "nocol.csv", image_column="picture",
                          caption_column="words").modality("text").items == ("x", "y", "z")
    with pytest.raises(UserError, match=r"wrong: image folder not found"):
        folder_dataset(tmp_path / "wrong", tmp_path / "two.csv")
    (tmp_path / "imgs" / "b.png").write_bytes(b"\x89PNG broken")
    (tmp_path / "ok.csv").write_text("image,caption\na.png,x\nb.png,y\nc.png,z\n")
    with pytest.raises(UserError, match=r"b.png: not a readable image"):
        folder_dataset(tmp_path / "imgs", tmp_path / "ok.csv")


def test_folder_sampling_is_reproducible(tmp_path):
    names = [f"{i:03d}.png" for i in range(40)]
    write_images(tmp_path / "imgs", names)
    (tmp_path / "c.txt").write_text("".join(f"caption {i}\n" for i in range(40)))
    a = folder_dataset(tmp_path / "imgs", tmp_path / "c.txt", sample=8, seed=3)
    b = folder_dataset(tmp_path / "imgs", tmp_path / "c.txt", sample=8, seed=3)
    c = folder_dataset(tmp_path / "imgs", tmp_path / "c.txt", sample=8, seed=4)
    assert a == b and a.ids != c.ids
    assert all(cap == f"caption {int(i[:3])}" for i, cap in zip(a.ids, a.modality("text").items))


# -- DiffusionDB ------------------------------------------------------------------------------------
def test_diffusiondb_json_and_parquet_agree(tmp_path):
    z, pq = write_diffusiondb(tmp_path / "ddb", 12)
    a = diffusiondb_dataset(z, tmp_path / "work", sample=5, seed=1)
    b = diffusiondb_dataset(z, tmp_path / "work2", metadata=pq, sample=5, seed=1)
    assert a.ids == b.ids and a.modality("text").items == b.modality("text").items
    assert len(a) == 5 and all(t.startswith("prompt ") for t in a.modality("text").items)
    with zipfile.ZipFile(z) as zf:
        meta = json.loads(zf.read("part-000001.json"))
    for iid, text, path in zip(a.ids, a.modality("text").items, a.modality("image").items):
        assert meta[iid + ".png"]["p"] == text
        assert (tmp_path / "work" / "diffusiondb" / "part-000001" / (iid + ".png")).samefile(path)
    assert not list((tmp_path / "work").rglob("*.tmp"))
    assert len(diffusiondb_dataset(z, tmp_path / "work")) == 12


def test_diffusiondb_bad_inputs(tmp_path):
    z, pq = write_diffusiondb(tmp_path / "ddb", 4, part=2)
    with pytest.raises(UserError, match="metadata does not match this part"):
        diffusiondb_dataset(z, tmp_path / "w", metadata=write_diffusiondb(tmp_path / "other", 3, part=2)[1])
    bad = tmp_path / "part-000009.zip"
    bad.write_bytes(b"PK nonsense")
    with pytest.raises(UserError, match="part-000009.zip: not a readable zip"):
        diffusiondb_dataset(bad, tmp_path / "w")
    with pytest.raises(UserError, match="not a DiffusionDB part"):
        diffusiondb_dataset(tmp_path / "images.zip", tmp_path / "w")
    # an unzipped part folder works too
    folder = tmp_path / "part-000002"
    with zipfile.ZipFile(z) as zf:
        zf.extractall(folder)
    assert len(diffusiondb_dataset(folder, tmp_path / "w")) == 4
    image(0).save(folder / "extra.png")
    with pytest.raises(UserError, match="1 of 5 images have no prompt"):
        diffusiondb_dataset(folder, tmp_path / "w")
