"""The project's own small open_clip architectures and their word-level tokenizer.

`register_configs()` adds this folder to open_clip's config registry (open_clip.add_model_config),
so `open_clip.create_model("ShapesViT-T-32", pretrained="models/clip.safetensors")` builds the
architecture and loads the checkpoint exactly as for any open_clip model. The text tower has a
72-word vocabulary (exporters/model_configs/shapes_vocab.json) instead of CLIP's 49 408 BPE tokens;
`tokenizer_for(arch)` returns the matching tokenizer (None for archs that use open_clip's own).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
VOCAB_FILE = HERE / "shapes_vocab.json"
# arch -> tokenizer vocabulary file; every arch in this folder uses the shapes word vocabulary
OWN_ARCHS = {p.stem: VOCAB_FILE for p in HERE.glob("*.json") if p.name != VOCAB_FILE.name}

_registered = False


def register_configs() -> list[str]:
    """Make open_clip know this folder's configs (idempotent). Returns the arch names added."""
    global _registered
    import open_clip
    if not _registered or not all(a in open_clip.list_models() for a in OWN_ARCHS):
        open_clip.add_model_config(HERE)
        _registered = True
    return sorted(OWN_ARCHS)


class WordTokenizer:
    """Word-level tokenizer: [<sot>, words..., <eot>, <pad>...]; <eot> has the largest id, so
    open_clip's default 'argmax' text pooling picks the end-of-text token as with CLIP's BPE."""

    def __init__(self, vocab_file: Path, context_length: int):
        tokens = json.loads(Path(vocab_file).read_text())["tokens"]
        self.index = {t: i for i, t in enumerate(tokens)}
        self.vocab_size = len(tokens)
        self.context_length = int(context_length)
        self.pad, self.sot, self.unk, self.eot = 0, self.index["<sot>"], self.index["<unk>"], len(tokens) - 1
        assert tokens[-1] == "<eot>" and tokens[0] == "<pad>"

    def words(self, text: str) -> list[str]:
        return re.findall(r"[a-z]+", text.lower())

    def encode(self, text: str) -> list[int]:
        ids = [self.index.get(w, self.unk) for w in self.words(text)][: self.context_length - 2]
        return [self.sot, *ids, self.eot]

    def __call__(self, texts, context_length: int | None = None):
        import torch
        if isinstance(texts, str):
            texts = [texts]
        n = int(context_length or self.context_length)
        out = torch.zeros(len(texts), n, dtype=torch.long)
        for i, t in enumerate(texts):
            ids = self.encode(t)[:n]
            ids[-1] = self.eot
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out


@lru_cache(maxsize=None)
def _tokenizer(arch: str) -> WordTokenizer:
    cfg = json.loads((HERE / f"{arch}.json").read_text())
    tok = WordTokenizer(OWN_ARCHS[arch], cfg["text_cfg"]["context_length"])
    if tok.vocab_size != cfg["text_cfg"]["vocab_size"]:
        raise RuntimeError(f"{arch}: vocabulary has {tok.vocab_size} tokens, config says "
                           f"{cfg['text_cfg']['vocab_size']}")
    return tok


def tokenizer_for(arch: str):
    """Callable texts -> LongTensor (n, context_length) for our archs; None for open_clip's own."""
    if arch not in OWN_ARCHS:
        return None
    return _tokenizer(arch)
