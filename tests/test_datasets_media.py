"""Augmentation series, AudioSet-style triplets, CLOOME pairs and molecule drawings."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from _standins import image, write_cloome, write_triplets, write_wav
from PIL import Image, ImageFilter

from exporters.datasets.augment import augment_step, augmentation_dataset
from exporters.datasets.cloome import cloome_dataset
from exporters.datasets.triplets import check_audio, triplet_dataset
from exporters.errors import UserError
from exporters.molecules import molecule_data_uri, molecule_svg, sanitize_svg, validate_smiles


# -- augmentations ----------------------------------------------------------------------------------
@pytest.fixture
def source(tmp_path):
    img = Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8))  # 40 wide, 30 high
    path = tmp_path / "src.jpg"
    img.save(path, quality=95)
    return path


def test_augment_steps_follow_the_definitions(source):
    base = Image.open(source).convert("RGB")
    a = lambda im: np.asarray(im, dtype=np.int64)  # noqa: E731
    for kind in ("rotation", "noise", "blur"):
        assert np.array_equal(a(augment_step(base, kind, 0)), a(base)), kind        # step 0 = the image
    assert np.array_equal(a(augment_step(base, "rotation", 25)), a(base.rotate(90.0)))
    n50 = np.random.default_rng([31415, 50]).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    assert np.array_equal(a(augment_step(base, "noise", 50)), (0.5 * a(base) + 0.5 * n50).astype(np.uint8))
    assert np.array_equal(a(augment_step(base, "noise", 50)), a(augment_step(base, "noise", 50)))
    assert not np.array_equal(a(augment_step(base, "noise", 50, seed=1)), a(augment_step(base, "noise", 50)))
    assert np.array_equal(a(augment_step(base, "blur", 40)), a(base.filter(ImageFilter.GaussianBlur(40 * 5 / 100))))
    # shifts run from -w to +w (-h to +h): the first and last steps leave the frame black
    for kind in ("hshift", "vshift"):
        assert a(augment_step(base, kind, 0)).max() == 0 and a(augment_step(base, kind, 99)).max() == 0, kind
    off = -40 + 30 * 80 / 99                          # step 30 of linspace(-40, 40, 100)
    assert np.array_equal(a(augment_step(base, "hshift", 30)),
                          a(base.transform(base.size, Image.Transform.AFFINE, (1, 0, off, 0, 1, 0))))
    v = a(augment_step(base, "vshift", 40))           # offset -30 + 40*60/99 = -5.76: rows move down ~6
    assert v[:5].max() == 0 and v[7:].min(axis=(1, 2)).max() > 0 and np.array_equal(v[10], a(base)[4])


def test_augmentation_dataset_writes_pngs_atomically(source, tmp_path):
    ds = augmentation_dataset(source, "a noisy  picture", "noise", tmp_path / "work")
    assert len(ds) == 100 and set(ds.modality("text").items) == {"a noisy picture"}
    paths = ds.modality("image").items
    assert len(set(paths)) == 100 and all(p.endswith(".png") for p in paths)
    assert not list((tmp_path / "work").rglob("*.tmp"))
    first = Image.open(paths[0]).convert("RGB")
    assert np.array_equal(np.asarray(first), np.asarray(Image.open(source).convert("RGB")))
    again = augmentation_dataset(source, "a noisy picture", "noise", tmp_path / "work")
    assert again == ds
    other = augmentation_dataset(source, "a noisy picture", "blur", tmp_path / "work", steps=10)
    assert len(other) == 10 and other.id != ds.id
    with pytest.raises(UserError, match="unknown augmentation 'zoom'"):
        augmentation_dataset(source, "x", "zoom", tmp_path / "work")
    with pytest.raises(UserError, match="missing.png: augmentation source image file not found"):
        augmentation_dataset(tmp_path / "missing.png", "x", "blur", tmp_path / "work")


# -- triplets ---------------------------------------------------------------------------------------
def test_triplets_from_a_table(tmp_path):
    table = write_triplets(tmp_path / "audioset", 6)
    ds = triplet_dataset(table)
    assert ds.names == ["image", "text", "audio"] and ds.ids[0] == "yt000"
    assert ds.modality("audio").kind == "audio" and ds.modality("audio").items[2].endswith("audios/2.wav")
    assert ds.extra["durations_s"][0] == pytest.approx(0.1)
    assert len(triplet_dataset(table, sample=3)) == 3


def test_unreadable_audio_is_named(tmp_path):
    table = write_triplets(tmp_path / "a", 3)
    (tmp_path / "a" / "audios" / "1.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(UserError, match=r"audios/1.wav: unreadable audio"):
        triplet_dataset(table)
    empty = tmp_path / "empty.wav"
    write_wav(empty, seconds=0)
    with pytest.raises(UserError, match="empty.wav: unreadable audio"):
        check_audio(empty)
    fake = tmp_path / "x.mp3"
    fake.write_bytes(b"hello")
    with pytest.raises(UserError, match="x.mp3: unreadable audio"):
        check_audio(fake)
    (tmp_path / "ok.flac").write_bytes(b"fLaC" + b"\0" * 40)
    assert check_audio(tmp_path / "ok.flac") is None
    with pytest.raises(UserError, match="unsupported audio type '.aiff'"):
        (tmp_path / "s.aiff").write_bytes(b"FORM")
        check_audio(tmp_path / "s.aiff")


# -- CLOOME + molecules -----------------------------------------------------------------------------
def test_cloome_pairs_validate_smiles(tmp_path):
    table = write_cloome(tmp_path / "cloome", 5)
    ds = cloome_dataset(table, image_pattern="images/{}.png")
    assert ds.names == ["image", "molecule"] and ds.modality("molecule").kind == "molecule"
    assert ds.modality("image").label == "BioImage" and ds.ids == ("0", "1", "2", "3", "4")
    lines = table.read_text().splitlines()
    lines[3] = "2,C1CC(N"                                  # row 3 of the data = line 4 of the file
    table.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"cloome.csv:4: invalid SMILES 'C1CC\(N'"):
        cloome_dataset(table, image_pattern="images/{}.png")
    with pytest.raises(UserError, match=r"cloome/0: microscopy image file not found"):
        cloome_dataset(table)


def test_molecule_svg_is_a_clean_drawing():
    svg = molecule_svg("CC(=O)Oc1ccccc1C(=O)O")
    root = ET.fromstring(svg)
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert tags <= {"svg", "rect", "path", "g", "text", "tspan", "ellipse", "circle", "line", "polygon", "polyline"}
    assert "path" in tags and "<?xml" not in svg and "rdkit" not in svg and "<!--" not in svg
    uri = molecule_data_uri("c1ccccc1")
    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode().startswith("<svg")
    assert validate_smiles("  CCO ") == "CCO"
    for bad in ("", "C1CC", "Xx", "C(C"):
        with pytest.raises(UserError, match="invalid SMILES"):
            validate_smiles(bad, "prompts.txt:7")


def test_sanitizer_drops_active_content():
    evil = ("<svg xmlns='http://www.w3.org/2000/svg' xmlns:xlink='http://www.w3.org/1999/xlink' onload='alert(1)'>"
            "<script>alert(2)</script><a xlink:href='javascript:alert(3)'><path d='M0 0'/></a>"
            "<foreignObject><div>x</div></foreignObject>"
            "<path d='M 1 1' style='fill:url(http://evil/x)' onclick='x()'/><rect width='3' height='4'/>"
            "<image href='http://evil/p.png'/></svg>")
    clean = sanitize_svg(evil)
    low = clean.lower()
    for bad in ("script", "onload", "onclick", "javascript", "foreignobject", "href", "url(", "evil", "<image"):
        assert bad not in low, bad
    assert "<rect" in clean and "<path d=\"M 1 1\"" in clean
    with pytest.raises(UserError, match="DOCTYPE"):
        sanitize_svg("<!DOCTYPE svg [<!ENTITY x 'y'>]><svg>&x;</svg>")
