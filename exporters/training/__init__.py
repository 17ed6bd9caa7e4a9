"""Training the project's own CLIP-like models (imports torch; the analysis core does not).

SHIPPED_MODELS: name -> path of the committed checkpoint in models/ (open_clip state dict in
safetensors, architecture ARCH from exporters/model_configs); each has a JSON record beside it.
"""

from exporters.resources import resource_path

ARCH = "ShapesViT-T-32"
MODELS_DIR = resource_path("models", must_exist=False)   # <checkout>/models, or the installed package's copy
SHIPPED_NAMES = ("random", "clip", "cyclip", "infoloob", "cloob", "clip_t10", "clip_t100", "clip_learned")
SHIPPED_MODELS = {name: MODELS_DIR / f"{name}.safetensors" for name in SHIPPED_NAMES}

__all__ = ["ARCH", "MODELS_DIR", "SHIPPED_MODELS", "SHIPPED_NAMES"]
