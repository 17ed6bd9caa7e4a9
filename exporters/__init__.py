"""Exporters: compute, once, everything the interactive article shows about CLIP-like latent spaces.

Data flows one way: dataset -> model -> embeddings (cached) -> analyses (pure numpy) -> figure data
(JSON) -> Jinja template -> page. Only `exporters.sources.openclip` and `exporters.training` import torch.
"""

__version__ = "0.1.0"   # the one version: pyproject.toml reads it (dynamic), the CLI prints it
