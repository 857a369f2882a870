"""Time the README's main command from a fresh clone: the environment build, then `dvc repro`, split by stage.

Clones the repository (HEAD) into a scratch folder, runs `make env` there (timed apart: the README's budget is for
the pipeline with the environment already built), then `dvc repro` with every output line time-stamped, so each
stage's wall time is the time from its "Running stage" line to the next one. Also records the machine's load
average before and after (the figure is only meaningful on an idle machine), and the CPU time of the whole run.

Usage: ``python benchmarks/pipeline_time.py [--keep DIR] [--params FILE]``; a DIR that already holds a clone is
moved to this HEAD and keeps its environment and its dvc.lock (data and results are kept only if that clone made
them, and `dvc repro` re-runs a stage there only when its code, params or inputs changed since; pass a new DIR for
a cold run). Writes benchmarks/results/pipeline_time.json (or ``--out``).

``--accumulate`` measures a run too long for one sitting (the full profile, params-full.yaml: hours on 2 cores)
over several: the JSON is rewritten after every finished stage (a run that is killed keeps what it measured),
and a later call with the same DIR and ``--out`` lets `dvc repro` skip the stages already done and adds the new
stages to the recorded ones; each sitting's start, end and load averages are kept under ``sittings``, and
``complete`` says whether the last sitting finished the pipeline. The total is then the sum of stage times.
A sitting on another machine (a new DIR: nothing computed is there) asks `dvc repro` only for the stages not yet
recorded; the upstream stages they need (stand-ins, preprocessing) run again, are not counted twice (the first
time recorded is kept) and their re-run seconds are listed under the sitting's ``rerun_upstream``. The report
stage, which depends on every result, runs alone (``--single-item``) once everything else is recorded: on such
a machine it reports the results computed there only, so its time is then a slight underestimate (said in
the sitting's ``report_note``). ``--defer GLOB ...`` leaves the matching stages to a later sitting (one that has
to stop at a set time spends it on stages it can finish; listed under the sitting's ``deferred``).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE = re.compile(r"Running stage '([^']+)'")


def timed_lines(command: list[str], cwd: Path, env: dict) -> tuple[list[tuple[float, str]], int]:
    started = time.perf_counter()
    lines = []
    with subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        for line in proc.stdout:
            lines.append((time.perf_counter() - started, line.rstrip()))
    return lines, proc.returncode


def head(folder: Path) -> str:
    """The commit checked out in ``folder`` (no ``-dirty`` mark: a timed clone always has its params file swapped)."""
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True).stdout.strip()


def stage_seconds(lines: list[tuple[float, str]], total: float) -> dict[str, float]:
    marks = [(t, m.group(1)) for t, line in lines if (m := STAGE.search(line))]
    out = {}
    for (start, name), (end, _) in zip(marks, [*marks[1:], (total, "")]):
        out[name] = round(end - start, 1)
    return out


def group(stages: dict[str, float]) -> dict[str, float]:
    """Seconds per kind of stage (synth, preprocessing, train, report, ...)."""
    kinds: dict[str, float] = {}
    for name, seconds in stages.items():
        kind = name.split("@")[0]
        kind = "preprocessing" if kind in ("check", "index", "faces", "landmarks", "magnify", "flow", "features") \
            else kind
        kinds[kind] = round(kinds.get(kind, 0.0) + seconds, 1)
    return kinds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, default=None, help="clone into this folder and keep it")
    parser.add_argument("--params", type=Path, default=None, help="use this params file (e.g. params-full.yaml)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "pipeline_time.json")
    parser.add_argument("--accumulate", action="store_true",
                        help="write after every stage; add to the stages an earlier call recorded in --out")
    parser.add_argument("--defer", nargs="+", default=[], metavar="GLOB",
                        help="--accumulate: leave the stages matching these globs to a later sitting (e.g. "
                             "'train@rrrn*': a sitting that must stop at a set time spends it on stages it can "
                             "finish; `dvc repro` runs its targets in its own order, so they cannot just go last)")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="affect-repro-"))
    if (folder / ".git").is_dir():  # a clone kept from an earlier run: move it to this HEAD, keep its .venv
        commit = head(REPO)
        lock = folder / "dvc.lock"
        computed = lock.read_text() if lock.is_file() else None
        subprocess.run(["git", "fetch", "-q", str(REPO), commit], cwd=folder, check=True)
        subprocess.run(["git", "reset", "-q", "--hard", commit], cwd=folder, check=True)
        if computed is not None:  # its own record of what it computed: only stages whose inputs changed re-run
            lock.write_text(computed)
    else:
        subprocess.run(["git", "clone", "-q", str(REPO), str(folder)], check=True)
    if args.params:
        (folder / "params.yaml").write_text(Path(args.params).read_text())
    env = dict(os.environ)
    env.pop("AFFECT_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)
    load_before = os.getloadavg()
    started = time.perf_counter()
    build = subprocess.run(["make", "env"], cwd=folder, capture_output=True, text=True)
    env_seconds = time.perf_counter() - started
    if build.returncode != 0:
        print(build.stdout[-3000:] + build.stderr[-3000:], file=sys.stderr)
        return 1
    env["PATH"] = f"{folder / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    if args.accumulate:
        return accumulate(folder, env, args, round(env_seconds, 1), load_before)
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    lines, code = timed_lines(["dvc", "repro"], folder, env)
    total = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stages = stage_seconds(lines, total)
    result = {
        "commit": head(folder),
        "params": str(args.params or "params.yaml"), "returncode": code, "env_build_seconds": round(env_seconds, 1),
        "repro_seconds": round(total, 1),
        "repro_cpu_seconds": round((cpu_after.ru_utime - cpu_before.ru_utime)
                                   + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
        "by_kind": group(stages), "stages": stages, "load_average_before": load_before,
        "load_average_after": os.getloadavg(), "cpus": os.cpu_count(), "folder": str(folder),
    }
    if code != 0:
        result["tail"] = [line for _, line in lines[-40:]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "stages"}, indent=1))
    return code


def accumulate(folder: Path, env: dict, args, env_seconds: float, load_before) -> int:
    """One sitting of a long measured run (module docstring): stage times written as they finish."""
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    recorded: dict[str, float] = dict(previous.get("stages", {}))
    sittings = list(previous.get("sittings", []))
    sitting = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "load_average_before": load_before,
               "env_build_seconds": env_seconds, "stages": 0}
    sittings.append(sitting)
    commit = head(folder)
    sitting["commit"] = commit  # sittings may run different commits: the top-level one is the last sitting's

    def save(complete: bool, code: int | None) -> None:
        result = {"commit": commit, "params": str(args.params or "params.yaml"), "complete": complete,
                  "returncode": code, "repro_seconds_sum_of_stages": round(sum(recorded.values()), 1),
                  "by_kind": group(recorded), "stages": recorded, "sittings": sittings, "cpus": os.cpu_count(),
                  "folder": str(folder)}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")

    command = repro_command(folder, env, recorded, sitting, tuple(args.defer))
    first = set(recorded)  # recorded by an earlier sitting: a re-run of one of these is not counted again

    def finished(name: str, seconds: float) -> None:
        if name in first:
            sitting.setdefault("rerun_upstream", {})[name] = seconds
        else:
            recorded[name] = seconds
            sitting["stages"] += 1
        sitting["load_average_now"] = os.getloadavg()
        sitting.setdefault("load_1min_at_stage_end", {})[name] = round(os.getloadavg()[0], 2)  # was it idle?
        save(False, None)

    started = time.perf_counter()
    current: tuple[str, float] | None = None
    with subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        for line in proc.stdout:
            now = time.perf_counter() - started
            if (match := STAGE.search(line)) is None:
                continue
            if current is not None:  # the previous stage ended where this one starts
                finished(current[0], round(now - current[1], 1))
            current = (match.group(1), now)
    if current is not None and proc.returncode == 0:
        finished(current[0], round(time.perf_counter() - started - current[1], 1))
    complete = proc.returncode == 0 and set(all_stages(folder, env)) <= set(recorded)
    sitting["ended"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sitting["load_average_after"] = os.getloadavg()
    save(complete, proc.returncode)
    print(json.dumps({"complete": complete, "stages": len(recorded),
                      "sum_of_stages_seconds": round(sum(recorded.values()), 1)}))
    return proc.returncode


def all_stages(folder: Path, env: dict) -> list[str]:
    listed = subprocess.run(["dvc", "stage", "list", "--name-only"], cwd=folder, env=env, capture_output=True,
                            text=True, check=True).stdout.split()
    return [name for name in listed if name]


def repro_command(folder: Path, env: dict, recorded: dict[str, float], sitting: dict,
                  defer: tuple[str, ...] = ()) -> list[str]:
    """`dvc repro` for what is not yet recorded (module docstring); plain `dvc repro` on a first sitting."""
    if not recorded:
        return ["dvc", "repro"]
    stages = all_stages(folder, env)
    missing = [name for name in stages if name not in recorded and name != "report"]
    if missing:
        later = [name for name in missing if any(fnmatch.fnmatch(name, glob) for glob in defer)]
        if len(later) == len(missing):  # nothing else is left: deferring would skip to the report
            later = []
        if later:
            sitting["deferred"] = later
        return ["dvc", "repro", *[name for name in missing if name not in later]]
    trained = [name for name in stages if name.startswith("train")]
    here = len(list((folder / "results").glob("**/metrics.json")))
    if here < len(trained):
        sitting["report_note"] = (f"the report stage ran alone (--single-item) on a machine holding {here} of the "
                                  f"{len(trained)} results: its time is a slight underestimate of a full report")
    return ["dvc", "repro", "--single-item", "report"]


if __name__ == "__main__":
    sys.exit(main())
