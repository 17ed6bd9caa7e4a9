"""The four contrastive objectives the article compares, in torch.

Every function takes L2-normalized image and text features (B, d) of B matching pairs (row i of
`img` belongs to row i of `txt`) and an inverse temperature `scale` (a float or a 0-d tensor, e.g.
exp(model.logit_scale)); it returns a scalar tensor, averaged over the batch and over both
retrieval directions. The numbers agree with exporters.analysis.losses (numpy) on the same input.

- infonce: CLIP (Radford et al. 2021): cross-entropy with the positive among the candidates.
- cyclip: InfoNCE plus CyCLIP's in-modal and cross-modal symmetry terms (Goel et al. 2022).
- infoloob: "leave one out" InfoNCE: the positive is excluded from the denominator (Fürst et al. 2022).
- cloob: InfoLOOB on embeddings first replaced by their modern-Hopfield retrievals from the batch's
  image memory and text memory (Fürst et al. 2022, CLOOB).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(img: torch.Tensor, txt: torch.Tensor) -> int:
    if img.ndim != 2 or img.shape != txt.shape:
        raise ValueError(f"paired features must have the same (B, d) shape, got {tuple(img.shape)} "
                         f"and {tuple(txt.shape)}")
    if img.shape[0] < 2:
        raise ValueError("a contrastive loss needs at least 2 pairs in the batch")
    return img.shape[0]


def infonce(img: torch.Tensor, txt: torch.Tensor, scale) -> torch.Tensor:
    """Symmetric InfoNCE: mean of the image->text and text->image cross-entropies."""
    n = _check(img, txt)
    logits = scale * img @ txt.T
    target = torch.arange(n, device=img.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def cyclip_terms(img: torch.Tensor, txt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CyCLIP's regularizers on cosine similarities, as in the authors' code (mean * batch size).

    in-modal:    ||I I^T - T T^T||^2  (image-image geometry should equal text-text geometry)
    cross-modal: ||I T^T - T I^T||^2  (similarity of image i to text j = of image j to text i)
    """
    n = _check(img, txt)
    inmodal = (img @ img.T - txt @ txt.T).square().mean() * n
    s = img @ txt.T
    crossmodal = (s - s.T).square().mean() * n
    return inmodal, crossmodal


def cyclip(img: torch.Tensor, txt: torch.Tensor, scale, lambda_in: float = 0.25,
           lambda_cross: float = 0.25) -> torch.Tensor:
    """CyCLIP = InfoNCE + lambda_in * in-modal + lambda_cross * cross-modal symmetry (0.25 each, as
    in Goel et al. 2022)."""
    inmodal, crossmodal = cyclip_terms(img, txt)
    return infonce(img, txt, scale) + lambda_in * inmodal + lambda_cross * crossmodal


def _loob_rows(logits: torch.Tensor) -> torch.Tensor:
    """Mean over rows of logsumexp over the off-diagonal entries minus the diagonal one."""
    n = logits.shape[0]
    eye = torch.eye(n, dtype=torch.bool, device=logits.device)
    off = logits.masked_fill(eye, float("-inf"))
    return (torch.logsumexp(off, dim=1) - logits.diagonal()).mean()


def infoloob(img: torch.Tensor, txt: torch.Tensor, scale) -> torch.Tensor:
    """Symmetric InfoLOOB: like InfoNCE but the positive pair is left out of the denominator.

    Not bounded below: it keeps rewarding a larger margin between the positive and the negatives.
    (The CLOOB authors' code multiplies it by the temperature; that only rescales the gradient.)
    """
    _check(img, txt)
    logits = scale * img @ txt.T
    return (_loob_rows(logits) + _loob_rows(logits.T)) / 2


def hopfield_retrieve(queries: torch.Tensor, memory: torch.Tensor, beta: float) -> torch.Tensor:
    """One update of a modern Hopfield network: memory^T softmax(beta * memory @ query), renormalized.

    Each query is replaced by a convex combination of the stored patterns (rows of `memory`) most
    similar to it, and projected back onto the unit sphere.
    """
    weights = torch.softmax(beta * queries @ memory.T, dim=1)     # (n_queries, n_memory)
    return F.normalize(weights @ memory, dim=1)


def cloob(img: torch.Tensor, txt: torch.Tensor, scale, beta: float = 8.0) -> torch.Tensor:
    """CLOOB: InfoLOOB between Hopfield retrievals (Fürst et al. 2022, eq. for L_InfoLOOB with U, V).

    U = the batch's image embeddings as memory, V = its text embeddings. U_x, U_y: images and texts
    retrieved from U; V_x, V_y: from V. Image-anchored term: InfoLOOB of U_x against U_y; text-anchored
    term: InfoLOOB of V_y against V_x. Both retrievals of one term come from the same memory, which
    is what lets CLOOB reinforce the covariance structure shared within each modality.
    """
    _check(img, txt)
    u_x, u_y = hopfield_retrieve(img, img, beta), hopfield_retrieve(txt, img, beta)
    v_x, v_y = hopfield_retrieve(img, txt, beta), hopfield_retrieve(txt, txt, beta)
    return (_loob_rows(scale * u_x @ u_y.T) + _loob_rows(scale * v_y @ v_x.T)) / 2


OBJECTIVES = {"clip": infonce, "cyclip": cyclip, "infoloob": infoloob, "cloob": cloob}
