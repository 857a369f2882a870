"""`affect report`: the comparison report, the CI regression check and the refresh of its baselines.

    affect report [--results DIR] [--out DIR] [--no-mlflow] [--no-dvc]
        build reports/comparison.md, reports/comparison.html and reports/figures/*.png (reports/build.py)
    affect report --check-regression [--results DIR] [--baselines FILE]
        compare results/*/metrics.json with reports/baselines.json; exit 1 when a metric leaves its band
    affect report --refresh-baselines [--seeds 0 1 2] [--experiments ID ...] [--profile quick] [--reuse]
        train every experiment under several seeds and store mean, std and band in reports/baselines.json
    affect report --add-seeds --seeds 1 2 [--experiments ID ...] [--profile P]
        train extra seeds into results/<name>/<dataset>/seeds/<seed>/ (the report shows mean +- std)

See docs/report.md.
"""

from __future__ import annotations

from pathlib import Path

from core.config import project_root


def register(sub) -> None:
    p = sub.add_parser(
        "report",
        help="build the comparison report (or check/refresh the regression baselines)",
        description="Build reports/comparison.{md,html} and reports/figures/ from results/ and MLflow; with "
        "--check-regression compare the results with reports/baselines.json instead; with --refresh-baselines "
        "re-run every experiment under several seeds and store new baselines.",
    )
    p.add_argument("--results", type=Path, default=None, help="results folder (default: <project>/results)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: <project>/reports)")
    p.add_argument("--no-mlflow", action="store_true", help="skip the training curves read from MLflow")
    p.add_argument("--no-dvc", action="store_true", help="skip `dvc metrics diff`")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check-regression", action="store_true",
                      help="compare results with the baselines; exit 1 when a metric leaves its band")
    mode.add_argument("--refresh-baselines", action="store_true",
                      help="re-run experiments under several seeds and rewrite the baselines (slow)")
    mode.add_argument("--add-seeds", action="store_true",
                      help="train --seeds of --experiments into results/<id>/seeds/<seed>/ (slow)")
    p.add_argument("--baselines", type=Path, default=None, help="baselines file (default: reports/baselines.json)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                   help="seeds for --refresh-baselines and --add-seeds (default: 0 1 2)")
    p.add_argument("--experiments", nargs="+", default=None,
                   help="experiment ids for --refresh-baselines and --add-seeds (default: params.yaml `experiments`)")
    p.add_argument("--profile", default=None,
                   help="profile of seed runs (default: quick for baselines, params.yaml `profile` for --add-seeds)")
    p.add_argument("--reuse", action="store_true",
                   help="--refresh-baselines: reuse seed runs already in results/<id>/seeds/ of the same profile")
    p.add_argument("--allow-missing", action="store_true",
                   help="--check-regression: an experiment without results is not a failure")
    p.add_argument("--expect-drop", action="store_true",
                   help="--check-regression of a negative control: passes only when every metric of every "
                   "experiment is a DROP (below its band)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    root = project_root()
    results = (args.results or root / "results").resolve()
    baselines = (args.baselines or root / "reports" / "baselines.json").resolve()
    if args.check_regression:
        from reports.regression import check_command

        return check_command(results, baselines, allow_missing=args.allow_missing, expect_drop=args.expect_drop)
    if args.refresh_baselines:
        from experiments.baselines import refresh_command

        return refresh_command(root, results, baselines, args.experiments, args.seeds, args.profile or "quick",
                               args.reuse)
    if args.add_seeds:
        from experiments.seeds import add_seeds_command

        return add_seeds_command(root, results, args.experiments, args.seeds, args.profile)
    from experiments.catalogue import SuiteCatalogue
    from reports.build import ReportOptions, build_report

    options = ReportOptions(root=root, results_dir=results, out_dir=(args.out or root / "reports").resolve(),
                            mlflow=not args.no_mlflow, dvc=not args.no_dvc, catalogue=SuiteCatalogue())
    summary = build_report(options)
    print(f"report: {summary.markdown} and {summary.html} ({len(summary.figures)} figures, "
          f"{summary.complete}/{summary.experiments} experiments with results, {summary.seconds:.1f} s)")
    return 0
