"""The torch objectives against hand-computed cases, the numpy analysis core, and known properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from exporters.analysis import losses as np_losses
from exporters.training.objectives import (OBJECTIVES, cloob, cyclip, cyclip_terms, hopfield_retrieve, infoloob,
                                           infonce)

torch.set_num_threads(1)


def _unit(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)


def _angles(*deg):
    return torch.tensor([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in deg], dtype=torch.float64)


def test_infonce_hand_computed_two_pairs():
    e = torch.eye(2, dtype=torch.float64)
    for s in (1.0, 10.0):
        # each row: log(e^s + e^0) - s = log(1 + e^-s), in both directions
        assert infonce(e, e, s).item() == pytest.approx(math.log1p(math.exp(-s)), rel=1e-12)


def _explicit(img, txt, s, leave_out):
    """Loops over pairs: -log exp(s x_i.y_i) / sum_j exp(s x_i.y_j), both directions, j != i if leave_out."""
    x, y = img.tolist(), txt.tolist()
    n = len(x)
    dot = lambda a, b: sum(p * q for p, q in zip(a, b))
    total = 0.0
    for a, b in ((x, y), (y, x)):
        for i in range(n):
            den = sum(math.exp(s * dot(a[i], b[j])) for j in range(n) if not (leave_out and j == i))
            total += -(s * dot(a[i], b[i]) - math.log(den))
    return total / (2 * n)


def test_infonce_and_infoloob_hand_computed_three_pairs():
    img, txt = _angles(0, 100, 200), _angles(20, 90, 250)
    for s in (2.0, 7.5):
        assert infonce(img, txt, s).item() == pytest.approx(_explicit(img, txt, s, False), rel=1e-12)
        assert infoloob(img, txt, s).item() == pytest.approx(_explicit(img, txt, s, True), rel=1e-12)


def test_infoloob_excludes_the_positive():
    e = torch.eye(2, dtype=torch.float64)
    # B = 2: the only negative has similarity 0, the positive 1 -> loss = log(e^0) - s = -s (below zero)
    assert infoloob(e, e, 5.0).item() == pytest.approx(-5.0)
    # the gradient w.r.t. the positive similarity is the constant -scale/B per direction: it never
    # saturates, unlike InfoNCE whose push vanishes as the positive's softmax probability goes to 1
    img, txt = _unit(6, 4, 0), _unit(6, 4, 1)
    # With img = identity the logits are scale * txt^T, so any similarity matrix S can be fed in
    # and the library's gradient w.r.t. each similarity read off directly.
    sims = (img @ txt.T).detach()
    s = 3.0
    for fn, saturates in ((infoloob, False), (infonce, True)):
        S = sims.clone().requires_grad_(True)
        fn(torch.eye(6, dtype=torch.float64), S.T, s).backward()
        g = S.grad.diagonal()
        if saturates:
            assert (g > -s / 6 + 1e-6).all()
        else:
            assert torch.allclose(g, torch.full((6,), -s / 6, dtype=torch.float64))
        # and the positive never appears among the negatives: raising it leaves the rest unchanged
        bumped = sims.clone()
        bumped.diagonal().add_(0.5)
        delta = fn(torch.eye(6, dtype=torch.float64), bumped.T, s) - fn(torch.eye(6, dtype=torch.float64), sims.T, s)
        if saturates:
            assert delta.item() > -s * 0.5
        else:
            assert delta.item() == pytest.approx(-s * 0.5, rel=1e-12)
    # and the library function is that formula
    assert infoloob(img, txt, 3.0).item() == pytest.approx(_explicit(img, txt, 3.0, True), rel=1e-12)
    # InfoNCE >= InfoLOOB always (one more positive term in the denominator)
    for seed in range(5):
        a, b = _unit(8, 5, 10 + seed), _unit(8, 5, 20 + seed)
        assert infonce(a, b, 4.0) > infoloob(a, b, 4.0)


@pytest.mark.parametrize("batch", [None, 7])
def test_torch_losses_match_numpy_analysis_core(batch):
    img, txt = _unit(21, 8, 3), _unit(21, 8, 4)
    x, y = img.numpy(), txt.numpy()
    n = 21 if batch is None else batch
    for torch_fn, np_fn in ((infonce, np_losses.infonce), (infoloob, np_losses.infoloob)):
        want = np_fn(x, y, 12.0, batch)
        got = np.mean([torch_fn(img[s:s + n], txt[s:s + n], 12.0).item() for s in range(0, 21, n)])
        assert got == pytest.approx(want, rel=1e-10)


def test_cyclip_hand_computed():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    txt = _angles(0, 45)
    inm, crm = cyclip_terms(img, txt)
    # I I^T = eye; T T^T = [[1, .707], [.707, 1]] -> mean sq diff 0.25, times B=2 -> 0.5
    assert inm.item() == pytest.approx(0.5)
    # I T^T = [[1, .707], [0, .707]] -> (S - S^T) has two entries +-.707 -> 0.5
    assert crm.item() == pytest.approx(0.5)
    assert cyclip(img, txt, 10.0).item() == pytest.approx(infonce(img, txt, 10.0).item() + 0.25 * 0.5 + 0.25 * 0.5)


def test_cyclip_terms_vanish_for_symmetric_geometry():
    a = _unit(9, 6, 5)
    assert cyclip(a, a, 7.0).item() == pytest.approx(infonce(a, a, 7.0).item())
    # a rotation of one modality keeps in-modal geometry (in-modal term 0) but breaks cross-modal symmetry
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    inm, crm = cyclip_terms(a, a @ q)
    assert inm.item() == pytest.approx(0.0, abs=1e-12) and crm.item() > 1e-3


def test_hopfield_retrieval_limits():
    mem = _unit(5, 4, 6)
    q = torch.nn.functional.normalize(mem + 0.05 * _unit(5, 4, 7), dim=1)
    # large beta: each query retrieves its nearest stored pattern
    assert torch.allclose(hopfield_retrieve(q, mem, 1e4), mem, atol=1e-6)
    # beta = 0: every query retrieves the normalized mean of the memory
    mean = torch.nn.functional.normalize(mem.mean(0, keepdim=True), dim=1).expand(5, 4)
    assert torch.allclose(hopfield_retrieve(q, mem, 0.0), mean, atol=1e-12)
    assert torch.allclose(hopfield_retrieve(q, mem, 8.0).norm(dim=1), torch.ones(5, dtype=torch.float64))


def test_cloob_matches_explicit_formula():
    img, txt = _unit(6, 4, 8), _unit(6, 4, 9)
    beta, s = 8.0, 5.0

    def retrieve(qs, mem):                   # numpy, one query at a time
        out = []
        for q in qs:
            w = np.exp(beta * mem @ q)
            v = (w / w.sum()) @ mem
            out.append(v / np.linalg.norm(v))
        return np.array(out)
    x, y = img.numpy(), txt.numpy()
    u_x, u_y, v_x, v_y = retrieve(x, x), retrieve(y, x), retrieve(x, y), retrieve(y, y)

    def loob(a, b):                          # anchors a_i, candidates b_j, j != i
        vals = []
        for i in range(len(a)):
            neg = [math.exp(s * a[i] @ b[j]) for j in range(len(a)) if j != i]
            vals.append(math.log(sum(neg)) - s * a[i] @ b[i])
        return np.mean(vals)
    want = (loob(u_x, u_y) + loob(v_y, v_x)) / 2
    assert cloob(img, txt, s, beta=beta).item() == pytest.approx(want, rel=1e-10)
    assert abs(cloob(img, txt, s).item() - infoloob(img, txt, s).item()) > 1e-3


def test_bad_shapes_raise():
    for fn in OBJECTIVES.values():
        with pytest.raises(ValueError):
            fn(_unit(4, 3, 0), _unit(5, 3, 0), 1.0)
        with pytest.raises(ValueError):
            fn(_unit(1, 3, 0), _unit(1, 3, 0), 1.0)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_each_objective_learns_to_pair_free_embeddings(name):
    """Optimizing free embeddings with each objective makes matching pairs retrieve each other."""
    torch.manual_seed(0)
    img = torch.randn(16, 8, dtype=torch.float64, requires_grad=True)
    txt = torch.randn(16, 8, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([img, txt], lr=0.05)
    fn = OBJECTIVES[name]

    def loss_now():
        return fn(torch.nn.functional.normalize(img, dim=1), torch.nn.functional.normalize(txt, dim=1), 10.0)
    first = loss_now().item()
    for _ in range(150):
        opt.zero_grad()
        loss = loss_now()
        loss.backward()
        opt.step()
    assert loss_now().item() < first - 0.5
    with torch.no_grad():
        s = torch.nn.functional.normalize(img, dim=1) @ torch.nn.functional.normalize(txt, dim=1).T
    assert (s.argmax(dim=1) == torch.arange(16)).all()
