"""`affect synth <kind> --out DIR`: write an embedded stand-in dataset in the official layout of <kind>."""

from __future__ import annotations

import json

import yaml

from core.errors import AffectError
from rawdata.datasets import STANDINS, VARIANTS

# dataset names of non-default variants (smic_vis, smic_nir) -> their Dataset
VARIANT_NAMES = {d.name: d for variants in VARIANTS.values() for d in variants.values() if d.name not in STANDINS}


def register(sub):
    p = sub.add_parser(
        "synth", help="write a stand-in dataset in an official layout",
        description="Write a synthetic stand-in dataset (with SYNTHETIC.json and ground truth) in the official "
                    "layout of KIND. Defaults are small (see each generator); --subjects and --clips-per-subject "
                    "make it larger. Kind-specific knobs go through --set, e.g. --set amplitude_scale=0.5.")
    p.add_argument("kind", choices=sorted({*STANDINS, *VARIANT_NAMES}),
                   help="which dataset to imitate (rawdata/datasets.py); a variant's dataset name (smic_vis) is KIND "
                        "with --variant (smic --variant vis)")
    p.add_argument("--out", required=True, help="output folder (created; replaced only if it is a stand-in)")
    p.add_argument("--subjects", type=int, default=None,
                   help="number of subjects (default: the kind's, Dataset.standin_subjects)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files")
    p.add_argument("--clips-per-subject", type=int, default=None,
                   help="average clips per subject (default: about 90 clips in all)")
    p.add_argument("--workers", type=int, default=None, help="parallel worker processes")
    p.add_argument("--variant", default=None,
                   help="a variant of KIND (smic: hs, vis, nir; default: the kind's first, rawdata/datasets.py)")
    p.add_argument("--json", action="store_true", help="print the generator's summary as JSON")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a kind-specific option, value parsed as YAML (repeatable)")
    rec = p.add_argument_group("kind rec (MMRec format)")
    for flag, what in (("--users", "users"), ("--items", "items"), ("--interactions", "interactions"),
                       ("--image-dim", "image feature dimensions"), ("--text-dim", "text feature dimensions")):
        rec.add_argument(flag, type=int, default=None, help=f"number of {what}")
    p.set_defaults(func=run)


def parse_settings(items: list[str]) -> dict:
    """`["noise_sigma=3", "jpeg_quality=[70, 90]"]` -> {"noise_sigma": 3, "jpeg_quality": [70, 90]}."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise AffectError(f"--set expects KEY=VALUE, got {item!r}")
        settings[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return settings


def run(args) -> int:
    from rawdata.synth import generate  # cv2 and the face model load only when a stand-in is written

    options = parse_settings(args.settings)
    if args.kind in VARIANT_NAMES:  # `smic_vis` = `smic --variant vis` (what a params.yaml stand-in entry can name)
        if args.variant is not None and args.variant != VARIANT_NAMES[args.kind].variant:
            raise AffectError(f"{args.kind} is the variant {VARIANT_NAMES[args.kind].variant!r}; --variant "
                              f"{args.variant!r} contradicts it")
        args.kind, args.variant = VARIANT_NAMES[args.kind].synth, VARIANT_NAMES[args.kind].variant
    for name in ("clips_per_subject", "workers", "variant", "users", "items", "interactions", "image_dim", "text_dim"):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    summary = generate(args.kind, args.out, subjects=args.subjects, seed=args.seed, **options)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(summary_line(args.kind, summary))
    return 0


def summary_line(kind: str, summary: dict) -> str:
    """`synth casme2 -> data/raw/casme2: samples 255, subjects 26, frames 7345, 38.8 s` from whatever counts
    the generator of that kind reports."""
    counts = ", ".join(f"{k} {v}" for k, v in summary.items()
                       if k not in ("dataset", "out", "seconds") and isinstance(v, int) and not isinstance(v, bool))
    seconds = f", {summary['seconds']} s" if "seconds" in summary else ""
    return f"synth {kind} -> {summary.get('out', '')}: {counts}{seconds}"
