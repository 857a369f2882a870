"""The deep CDMER baselines (STSTNet + DANN, landmark graph + DANN) on the stand-ins against the same network and
loop without the domain loss (issue 18).

Each run is ``affect train <method>/<task>`` (experiments/ststnet_dann/, experiments/geograph_dann/; the
a-priori defaults, one point, no selection) as a new process (benchmarks/timed_runs.py), with
``model.domain_weight`` at its default (DANN) and at 0 (the same network trained on the source alone, the deep
source-only baseline), for each seed. Seeds change the network's initialisation and batch order, not the stand-in
draw. Records target UAR / UF1 / WAR, the majority floor and wall time. Needs a project whose data/processed/
holds the flow images (STSTNet) or landmarks (the graph) of the task's databases (``--root``; the `make repro`
clone serves for casme2_to_smic). Rows already in ``--out`` for another (method, task, seed) are kept, so methods
can be measured in separate calls.

    python benchmarks/cdmer_dann.py --root DIR [--methods ststnet_dann geograph_dann] [--tasks casme2_to_smic]
        [--seeds 0 1 2]
    -> benchmarks/results/cdmer_dann.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--methods", nargs="+", default=["ststnet_dann", "geograph_dann"])
    parser.add_argument("--tasks", nargs="+", default=["casme2_to_smic"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "cdmer_dann.json")
    args = parser.parse_args(argv)
    os.environ["AFFECT_ROOT"] = str(args.root.resolve())
    sys.path.insert(0, str(REPO / "benchmarks"))
    from timed_runs import run_experiment, spread

    previous = json.loads(args.out.read_text()).get("rows", []) if args.out.is_file() else []
    for row in previous:
        row.setdefault("method", "ststnet_dann")  # rows measured before the landmark graph joined
    again = {(m, t, s) for m in args.methods for t in args.tasks for s in args.seeds}
    rows = [r for r in previous if (r["method"], r["task"], r["seed"]) not in again]  # kept: not re-measured here
    for method in args.methods:
        for task in args.tasks:
            source, target = task.split("_to_")
            task_overrides = (f"data.sources=[{source},{target}]", f"protocol.source={source}",
                              f"protocol.target={target}")
            for label, weight in (("dann", None), ("source_only_deep", 0.0)):
                for seed in args.seeds:
                    extra = () if weight is None else (f"model.domain_weight={weight}",)
                    with tempfile.TemporaryDirectory() as scratch:
                        run = run_experiment(f"{method}/casme2_to_smic", seed, Path(scratch),
                                             (*task_overrides, *extra))
                    metrics = run["metrics"]
                    rows.append({"method": method, "task": task, "variant": label, "seed": seed,
                                 "uar": metrics["uar"], "uf1": metrics["uf1"], "war": metrics.get("war"),
                                 "majority_uf1": metrics.get("majority_uf1"), "wall_seconds": run["wall_seconds"],
                                 "load_average_1min_at_start": run["load_average_1min_at_start"]})
                    print(json.dumps(rows[-1]), flush=True)
    summary = {}
    for row in rows:
        summary.setdefault(f"{row['method']}/{row['task']}/{row['variant']}", []).append(row["uar"])
    summary = {key: {"uar": spread(values)} for key, values in sorted(summary.items())}
    result = {"about": __doc__.split("\n")[0], "rows": rows, "summary": summary, "cpus": os.cpu_count()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
