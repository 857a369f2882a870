"""`affect preprocess <stage> <dataset>`: one preprocessing stage (or `all` of them) over a dataset's clips.

Stages, in order: index, faces, landmarks, magnify, flow, features (see preprocessing/stages.py and the
"Processed data" table of docs/architecture.md). Knobs come from `preprocess.<stage>` of params.yaml, the raw
dataset from `datasets.<dataset>.root` / `.format`. A stage resumes where an interrupted run stopped; clips
whose face cannot be found are listed and skipped.
"""

from __future__ import annotations

from pathlib import Path

from core.config import load_params, load_yaml, project_root
from experiments.registry import DEFAULTS_DIR

STAGE_CHOICES = ("index", "faces", "landmarks", "magnify", "flow", "features", "all", "occlude", "degrade")


def register(sub):
    p = sub.add_parser(
        "preprocess",
        help="run a preprocessing stage (index, faces, landmarks, magnify, flow, features, all) on a dataset, or "
        "write an occluded (occlude) or low-resolution (degrade) copy of a processed one",
        description=__doc__,
    )
    p.add_argument("stage", choices=STAGE_CHOICES, help="stage to run; `all` runs every stage in order")
    p.add_argument("dataset", help="dataset key of params.yaml `datasets:` (e.g. casme2)")
    p.add_argument("--params", default=None, help="params file (default: params.yaml of the project)")
    p.add_argument("--processed", default=None,
                   help="processed-data root (default: data.processed_root of experiments/_defaults/global.yaml, "
                   "where training reads it: data/processed)")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: preprocess.n_jobs)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    # `occlude` only (preprocessing/occlusion.py): writes <processed>/<dataset>-occ-<kind>/ from faces + landmarks
    p.add_argument("--kind", choices=("block", "glasses", "mask"), default="mask", help="occlude: occluder kind")
    p.add_argument("--ratio", type=float, default=None, help="occlude block: share of the face box covered")
    p.add_argument("--fill", type=float, default=None, help="occlude: grey level of the occluder")
    p.add_argument("--seed", type=int, default=None, help="occlude block: placement seed; degrade: noise seed")
    p.add_argument("--landmarks", choices=("detect", "copy"), default="detect",
                   help="occlude / degrade: re-detect the landmarks on the changed frames (the landmarks stage; "
                   "default) or copy the clean clip's (they show landmark-based methods the points under the "
                   "occluder, or where a clean face had them)")
    # `degrade` only (preprocessing/low_resolution.py): writes <processed>/<dataset>-x<factor>-<sr>/
    p.add_argument("--factor", type=int, default=4, help="degrade: down-sampling factor (128 px faces: 2 -> 64 px)")
    p.add_argument("--sr", choices=("bicubic", "lanczos", "srcnn", "espcn"), default="bicubic",
                   help="degrade: the super-resolution method restoring the faces (srcnn / espcn trained here, "
                   "subject cross-fit)")
    p.add_argument("--blur", type=float, default=None, help="degrade: anti-alias blur sigma (default 0.3 x factor)")
    p.add_argument("--noise", type=float, default=0.0, help="degrade: noise std in grey levels at the low size")
    p.add_argument("--sr-steps", type=int, default=300, help="degrade srcnn / espcn: training steps per network")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from preprocessing.stages import ORDER, run_stage

    root = project_root()
    params = load_params(Path(args.params) if args.params else root / "params.yaml")
    processed = Path(args.processed) if args.processed else root / processed_root()
    if args.stage == "occlude":
        from preprocessing.occlusion import occlude_dataset, occluded_name

        knobs = {k: getattr(args, k) for k in ("ratio", "fill", "seed") if getattr(args, k) is not None}
        name = occluded_name(args.dataset, args.kind)
        summary = occlude_dataset(processed / args.dataset, processed / name, args.kind, landmarks=args.landmarks,
                                  params=params, jobs=args.jobs, **knobs)
        how = "re-detected" if args.landmarks == "detect" else "copied from the clean clips"
        print(f"occlude {args.dataset} -> {name}: {summary['n_done']} clips, {summary['n_skipped']} skipped, "
              f"{summary['seconds']:.1f} s, landmarks {how} (next: affect preprocess flow|magnify|features {name})")
        return 0
    if args.stage == "degrade":
        from preprocessing.low_resolution import degrade_dataset, degraded_name

        name = degraded_name(args.dataset, args.factor, args.sr)
        summary = degrade_dataset(processed / args.dataset, processed / name, args.factor, args.sr,
                                  landmarks=args.landmarks, params=params, jobs=args.jobs, blur_sigma=args.blur,
                                  noise_std=args.noise, seed=args.seed or 0, sr_steps=args.sr_steps)
        how = "re-detected" if args.landmarks == "detect" else "copied from the clean clips"
        print(f"degrade {args.dataset} -> {name}: {summary['n_done']} clips, {summary['n_skipped']} skipped, "
              f"{summary['seconds']:.1f} s, landmarks {how} (next: affect preprocess flow|magnify|features {name})")
        return 0
    stages = ORDER if args.stage == "all" else (args.stage,)
    for stage in stages:
        summary = run_stage(stage, args.dataset, params, processed, jobs=args.jobs,
                            progress=False if args.no_progress else None)
        print(_describe(summary))
    return 0


def processed_root() -> str:
    """`data.processed_root` of the global experiment defaults: the one place training and preprocessing read."""
    return str(load_yaml(DEFAULTS_DIR / "global.yaml").data.processed_root)


def _describe(summary: dict) -> str:
    """One line per stage, then one line per skipped clip with its reason."""
    head = f"{summary['stage']} {summary['dataset']}: {summary['n_done']} clips done"
    if "n_computed" in summary:
        head += f" ({summary['n_computed']} computed, {summary['n_resumed']} already there)"
    head += f", {summary['n_skipped']} skipped, {summary['seconds']:.1f} s"
    lines = [head] + [f"  skipped {sample_id}: {reason}" for sample_id, reason in summary["skipped"].items()]
    return "\n".join(lines)
