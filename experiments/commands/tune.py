"""`affect tune <name>/<dataset> --grid KEY=V1,V2 [--grid ...] [--metric M] [--profile P] [key=value ...]`.

Runs the experiment once per grid combination into results/<name>/<dataset>/tuning/<slug>/, selects on a
validation score only and publishes the chosen run at results/<name>/<dataset>/ (experiments/tuning.py).
"""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser(
        "tune",
        help="select hyper-parameters on validation: one run per grid combination, the best published",
        description="Run an experiment once per combination of the --grid values (cartesian product), each into "
        "results/<name>/<dataset>/tuning/<slug>/, choose the highest validation score (ties: the first "
        "combination in grid order; test metrics are never read) and copy that run to results/<name>/<dataset>/ "
        "with `selected` in its details.json. Writes tuning.csv and tuning.json there. Fold tasks are tuned "
        "with protocol.validation=inner.",
    )
    p.add_argument("experiment", help="<name>/<dataset>, e.g. mgcn/recsynth (see `affect list`)")
    p.add_argument("overrides", nargs="*", help="key=value config overrides shared by every trial")
    p.add_argument("--grid", action="append", default=[], required=True, metavar="KEY=V1,V2,...",
                   help="a config key and the values to try (repeat for more axes); commas inside [...] stay, "
                   "e.g. --grid model.cl_weight=0.001,0.01,0.1")
    p.add_argument("--metric", default=None,
                   help="validation score to maximise, a metrics.json key starting with valid_ (default: "
                   "valid_recall@20 for rec, valid_uf1 for mer/masked, valid_mean_au_f1 for au, valid_top1 for "
                   "gesture)")
    p.add_argument("--profile", default=None, help="config profile (default: params.yaml `profile`)")
    p.set_defaults(func=_run)
    _accept_trailing_overrides(p)


def _accept_trailing_overrides(parser) -> None:
    """argparse fills the `overrides` positional only up to the first option, so `key=value` words after --grid
    would be rejected as unrecognised; this parser collects them into `overrides` as well."""
    parse_known_args = parser.parse_known_args

    def parse_with_trailing_overrides(args=None, namespace=None):
        namespace, extras = parse_known_args(args, namespace)
        trailing = [word for word in extras if "=" in word and not word.startswith("-")]
        namespace.overrides = [*namespace.overrides, *trailing]
        return namespace, [word for word in extras if word not in trailing]

    parser.parse_known_args = parse_with_trailing_overrides


def _run(args) -> int:
    from experiments.tuning import tune

    summary = tune(args.experiment, args.grid, metric=args.metric, overrides=args.overrides, profile=args.profile)
    chosen = " ".join(f"{key}={value}" for key, value in summary["chosen"].items())
    print(f"{args.experiment}: chose {chosen} ({summary['metric']}={summary['chosen_score']:.4f}) of "
          f"{summary['n_trials']} trials ({summary['n_failed']} failed); see tuning.csv and tuning.json in the "
          "experiment's results folder")
    return 0
