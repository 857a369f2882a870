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

STAGE_CHOICES = ("index", "faces", "landmarks", "magnify", "flow", "features", "all", "occlude")


def register(sub):
    p = sub.add_parser(
        "preprocess",
        help="run a preprocessing stage (index, faces, landmarks, magnify, flow, features, all) on a dataset",
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
    p.add_argument("--seed", type=int, default=None, help="occlude block: placement seed")
    p.add_argument("--landmarks", choices=("detect", "copy"), default="detect",
                   help="occlude: re-detect the landmarks on the occluded frames (the landmarks stage; default) or "
                   "copy the clean clip's (they show landmark-based methods the points under the occluder)")
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
