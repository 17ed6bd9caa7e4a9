"""AudioSet-style triplets: an image, a text and an audio clip per item (the seed article's ImageBind
section).

One table (.csv/.tsv/.json) with a row per triplet and three columns: the image (image|file_name|
...), the text (caption|text|prompt|title|label) and the audio file (audio|audio_file|wav|sound|
clip); paths are relative to the table's folder. Audio must be something a browser plays: WAV
(PCM, checked frame by frame with the stdlib `wave` module), FLAC, MP3 or Ogg (checked by their
signature). Pairs keep the table's row order (optionally sampled).
"""

from __future__ import annotations

import wave
from pathlib import Path

from exporters.datasets.common import (AMUMO_SEED, IMAGE_COLUMNS, TEXT_COLUMNS, cell, check_image, read_table,
                                       sample_indices, slug, table_columns)
from exporters.errors import UserError
from exporters.pairs import Modality, PairedDataset

TRIPLETS_VERSION = "v1"
AUDIO_COLUMNS = ("audio", "audio_file", "audio_path", "wav", "sound", "clip")
AUDIO_EXTS = (".wav", ".flac", ".mp3", ".ogg", ".oga")


def check_audio(path: Path) -> float | None:
    """Fail with one line when `path` is not a playable audio file; the duration in s for WAV."""
    if not path.is_file():
        raise UserError(f"{path}: audio file not found; fix the path in the triplet table")
    ext = path.suffix.lower()
    if ext not in AUDIO_EXTS:
        raise UserError(f"{path}: unsupported audio type {ext!r}; convert it to WAV (16-bit PCM), FLAC, MP3 or Ogg")
    if ext == ".wav":
        try:
            with wave.open(str(path), "rb") as w:
                frames, rate = w.getnframes(), w.getframerate()
                if frames <= 0 or rate <= 0 or len(w.readframes(1)) == 0:
                    raise wave.Error("no audio frames")
        except (wave.Error, EOFError, OSError) as exc:
            raise UserError(f"{path}: unreadable audio ({str(exc) or type(exc).__name__}); re-encode it as "
                            "16-bit PCM WAV (e.g. ffmpeg -i in -acodec pcm_s16le out.wav)") from None
        return frames / rate
    head = path.read_bytes()[:4]
    ok = {".flac": head == b"fLaC", ".ogg": head == b"OggS", ".oga": head == b"OggS",
          ".mp3": head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)}[ext]
    if not ok:
        raise UserError(f"{path}: unreadable audio (not a valid {ext[1:].upper()} file); re-encode it")
    return None


def triplet_dataset(table: str | Path, sample: int | None = None, seed: int = AMUMO_SEED,
                    image_column: str | None = None, text_column: str | None = None,
                    audio_column: str | None = None) -> PairedDataset:
    """Image-text-audio triplets listed in `table`."""
    path = Path(table)
    rows = read_table(path)
    if path.suffix.lower() == ".txt":
        raise UserError(f"{path}: a triplet table needs image, text and audio columns; use .csv or .json")
    cols = table_columns(rows, path, {"image": (IMAGE_COLUMNS, image_column),
                                      "text": (TEXT_COLUMNS + ("label", "labels"), text_column),
                                      "audio": (AUDIO_COLUMNS, audio_column)})
    base = path.parent
    first_line = 2 if path.suffix.lower() in (".csv", ".tsv") else 1
    idx = sample_indices(len(rows), sample, seed, str(path))
    ids, images, texts, audios, durations = [], [], [], [], []
    for i in idx:
        row, line = rows[i], i + first_line
        img = base / cell(row, cols["image"], path, line, "image")
        aud = base / cell(row, cols["audio"], path, line, "audio file")
        check_image(img)
        durations.append(check_audio(aud))
        ids.append(str(row.get("id") or i))
        images.append(str(img))
        texts.append(cell(row, cols["text"], path, line, "text"))
        audios.append(str(aud))
    if len(set(ids)) != len(ids):
        raise UserError(f"{path}: the 'id' column repeats values; make them unique or drop the column")
    suffix = f"_n{len(ids)}" + (f"_seed{seed}" if sample is not None else "")
    return PairedDataset(
        f"triplets_{slug(path.parent.name + '_' + path.stem)}_{TRIPLETS_VERSION}{suffix}",
        tuple(ids),
        (Modality("image", "image", "Image", tuple(images)), Modality("text", "text", "Text", tuple(texts)),
         Modality("audio", "audio", "Audio", tuple(audios))),
        description=f"{len(ids)} image-text-audio triplets from {path.name}",
        extra={"loader": "triplets", "table": str(path), "pool": len(rows), "sample": sample,
               "seed": seed if sample is not None else None, "durations_s": durations},
    )


def from_config(world, entry) -> PairedDataset:
    """The `triplets` source (exporters/registry.py)."""
    o = entry.options
    return triplet_dataset(world.resolve(o["table"]), image_column=o.get("image_column"),
                           text_column=o.get("text_column"), audio_column=o.get("audio_column"),
                           **{k: o[k] for k in ("sample", "seed") if k in o})
