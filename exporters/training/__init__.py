"""Training the project's own CLIP-like models (imports torch; the analysis core does not).

SHIPPED_MODELS: name -> path of the committed checkpoint in models/ (open_clip state dict in
safetensors, architecture ARCH from exporters/model_configs); each has a JSON record beside it.
"""

from pathlib import Path

ARCH = "ShapesViT-T-32"
MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
SHIPPED_NAMES = ("random", "clip", "cyclip", "infoloob", "cloob")
SHIPPED_MODELS = {name: MODELS_DIR / f"{name}.safetensors" for name in SHIPPED_NAMES}

__all__ = ["ARCH", "MODELS_DIR", "SHIPPED_MODELS", "SHIPPED_NAMES"]
