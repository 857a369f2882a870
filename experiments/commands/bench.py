"""`affect bench [--run] [--json]`: one table of every benchmark's JSON (benchmarks/results/*.json).

Each script in benchmarks/ measures one area and writes benchmarks/results/<name>.json with a `figures` mapping
(name -> {"value", "unit", "target" (optional), "note" (optional)}) and `machine` facts. `--run` runs the scripts
first (slow: minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.config import project_root


def register(sub) -> None:
    p = sub.add_parser("bench", help="collect (and optionally run) the benchmarks into one table")
    p.add_argument("--run", action="store_true", help="run every benchmarks/*.py before collecting")
    p.add_argument("--json", action="store_true", help="print the collected table as JSON")
    p.set_defaults(func=_run)


def collect(results_dir: Path) -> list[dict]:
    rows = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            rows.append({"benchmark": path.stem, "figure": "(unreadable)", "value": str(err), "unit": "",
                         "target": ""})
            continue
        if "figures" in data:
            for name, fig in data["figures"].items():
                fig = fig if isinstance(fig, dict) else {"value": fig}
                rows.append({"benchmark": path.stem, "figure": name, "value": fig.get("value"),
                             "unit": fig.get("unit", ""), "target": fig.get("target", "")})
        else:  # a script without the `figures` convention: every numeric leaf
            for name, value in _numeric_leaves(data, ""):
                rows.append({"benchmark": path.stem, "figure": name, "value": value, "unit": "", "target": ""})
    return rows


def _numeric_leaves(node, prefix: str):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, f"{prefix}{key}.")
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield prefix[:-1], node


def _run(args) -> int:
    root = project_root()
    bench_dir = root / "benchmarks"
    if args.run:
        for script in sorted(bench_dir.glob("*.py")):
            print(f"running {script.name} ...", file=sys.stderr)
            subprocess.run([sys.executable, str(script)], cwd=root, check=False)
    rows = collect(bench_dir / "results")
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no benchmark results yet: run `affect bench --run` or a script in benchmarks/")
        return 0
    header = list(rows[0])
    widths = [max(len(_fmt(r[h])) for r in rows + [{h: h for h in header}]) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print("  ".join(_fmt(r[h]).ljust(w) for h, w in zip(header, widths)))
    return 0


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
