"""`python -m exporters train`: train the project's own CLIP-like models on the shapes world (CPU)."""

from __future__ import annotations

import math
from pathlib import Path

TEMPERATURES = ("fixed", "learned")
HELP = "train a small open_clip model on the generated shapes world (CPU, reproducible)"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help=HELP, description=HELP + ". Writes <out>/<name>.safetensors and <out>/<name>.json.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--objective", help="clip (InfoNCE), cyclip, infoloob, cloob, or random (untrained)")
    what.add_argument("--shipped", metavar="NAME", help="reproduce one shipped model with its recorded settings "
                                                        "(random, clip, cyclip, infoloob, cloob)")
    what.add_argument("--all", action="store_true", help="reproduce every shipped model, one after another")
    p.add_argument("--out", type=Path, default=Path("models"), help="output folder (default: models)")
    p.add_argument("--name", help="file name stem (default: the objective)")
    p.add_argument("--steps", type=int, help="training steps (default: 1200, as the shipped models)")
    p.add_argument("--seed", type=int, help="random seed (default: 0, as the shipped models)")
    p.add_argument("--temperature", metavar="{fixed,learned}",
                   help="fixed or learned inverse temperature (default: fixed)")
    p.add_argument("--scale", "--logit-scale", dest="scale", metavar="SCALE",
                   help="inverse temperature (logit scale): kept throughout when fixed, the start when learned "
                        "(default: 30; open_clip starts a learned one at 1/0.07 = 14.29 and clamps it at 100)")
    p.add_argument("--beta", type=float, help="CLOOB's Hopfield inverse temperature (default: 8)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: 1)")
    p.set_defaults(func=run)


def _configs(args):
    from dataclasses import replace

    from exporters.errors import UserError

    # the options' own values first, before torch is imported: a typo costs no second
    scale = _scale(args.scale)
    if args.temperature is not None and args.temperature not in TEMPERATURES:
        raise UserError(f"--temperature must be one of {', '.join(TEMPERATURES)}, got {args.temperature!r}")
    if scale is not None:
        check_scale(scale, "fixed", math.inf)
    from exporters.training.objectives import OBJECTIVES
    from exporters.training.train import SHIPPED_CONFIGS

    if args.all:
        cfgs = list(SHIPPED_CONFIGS.values())
    elif args.shipped:
        if args.shipped not in SHIPPED_CONFIGS:
            raise UserError(f"unknown shipped model {args.shipped!r}; use one of {', '.join(SHIPPED_CONFIGS)}")
        cfgs = [SHIPPED_CONFIGS[args.shipped]]
    else:
        valid = (*OBJECTIVES, "random")
        if args.objective not in valid:
            raise UserError(f"unknown objective {args.objective!r}; use one of {', '.join(valid)}")
        base = SHIPPED_CONFIGS[args.objective]
        cfgs = [replace(base, name=args.name or args.objective)]
    overrides = {k: v for k, v in (("steps", args.steps), ("seed", args.seed), ("temperature", args.temperature),
                                   ("init_scale", scale), ("hopfield_beta", args.beta),
                                   ("threads", args.threads)) if v is not None}
    if overrides and (args.all or args.shipped):
        raise UserError("--all and --shipped reproduce the recorded settings; drop " +
                        ", ".join("--" + {"init_scale": "scale", "hopfield_beta": "beta"}.get(k, k) for k in overrides))
    if args.steps is not None and args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    out = [replace(c, **overrides) for c in cfgs]
    for c in out:
        check_scale(c.init_scale, c.temperature, c.max_scale)
    return out


def _scale(text: str | None) -> float | None:
    """--scale as a number: one line naming what came and what is expected (exit 2), never a traceback."""
    from exporters.errors import UserError

    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise UserError(f"--scale must be a number (the inverse temperature, e.g. 30), got {text!r}") from None
    return value


def check_scale(scale: float, temperature: str, max_scale: float) -> None:
    """The inverse temperature a run may start at: positive and finite; a learned one within the clamp
    [1, max_scale] the trainer keeps it in (a start outside would be clamped at the first step)."""
    from exporters.errors import UserError

    if not math.isfinite(scale) or scale <= 0:
        raise UserError(f"--scale must be a positive finite inverse temperature (e.g. 30), got {scale:g}")
    if temperature == "learned" and not 1.0 <= scale <= max_scale:
        raise UserError(f"--scale {scale:g}: a learned inverse temperature starts within its clamp [1, {max_scale:g}] "
                        f"(open_clip starts at 1/0.07 = 14.29)")


def run(args) -> int:
    cfgs = _configs(args)
    from exporters.training.train import train

    for cfg in cfgs:
        train(cfg, args.out)
    return 0
