"""The quick pipeline that CI re-runs, and the deliberate refresh of its regression baselines.

``python -m experiments.quick_pipeline check`` (run by tests/test_regression.py, so by `make test` and CI):

1. copies the repository's tracked files (``git ls-files``) into a scratch project;
2. replaces the top-level keys of its params.yaml with those of experiments/quick_pipeline.yaml (profile ``quick``,
   smaller stand-ins, a subset of experiments covering every kind of method);
3. runs ``dvc repro report`` there: the real pipeline, stand-in synthesis to report;
4. compares the scratch results with reports/baselines.json (reports/regression.py) and prints one table; exits
   1 when a metric left its band (a drop is a regression, a jump is suspicious), or an experiment is missing.

``python -m experiments.quick_pipeline refresh [--seeds 0 1 2]`` runs steps 1-3, then ``affect report
--refresh-baselines`` inside the scratch project (every experiment again under each seed) and writes the new
bands to reports/baselines.json (the pipeline's own run is the seed run of params.yaml's ``seed``: it is not trained
twice). Commit that file with a message saying why the numbers moved; never edit it by
hand. ``refresh --experiments ID ...`` renews only those bands (for a change that touches only them) and keeps
the others; it runs only their training stages (with the data stages they read), and a ``--negative-control``
after it is checked on them alone; the file records each such partial refresh. ``--keep DIR`` keeps the scratch
project (its MLflow store, results and report) for inspection.

``--overlay FILE --baselines FILE`` run another experiment set with its own bands the same way: the extended set
(experiments/quick_pipeline_extended.yaml, reports/baselines_extended.json) holds the default run's experiments
that the quick check leaves out and the newer tracks' methods; it is too long for the default test run, so its
test is marked ``slow`` (``pytest -m slow tests/test_regression.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from core.errors import AffectError
from core.io import write_json
from core.provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
OVERLAY = REPO / "experiments" / "quick_pipeline.yaml"
BASELINES = REPO / "reports" / "baselines.json"
EXTENDED_OVERLAY = REPO / "experiments" / "quick_pipeline_extended.yaml"
EXTENDED_BASELINES = REPO / "reports" / "baselines_extended.json"


def tracked_files(repo: Path) -> list[str]:
    """Paths git tracks in ``repo`` (plus untracked, not ignored ones: a working tree under test counts)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise AffectError(f"cannot list the repository's files: {out.stderr.strip()}", path=repo)
    return [line for line in out.stdout.splitlines() if line]


def overlay_params(params_path: Path, overlay_path: Path) -> dict:
    """params.yaml with each top-level key of the overlay replacing the original's (not merged into it)."""
    params = yaml.safe_load(params_path.read_text(encoding="utf-8"))
    overlay = yaml.safe_load(overlay_path.read_text(encoding="utf-8"))
    if not isinstance(overlay, dict):
        raise AffectError("expected a mapping of params.yaml keys", path=overlay_path)
    return {**params, **overlay}


def build_project(dest: Path, repo: Path = REPO, overlay: Path = OVERLAY) -> Path:
    """A scratch copy of the repository whose params.yaml is the quick pipeline's; DVC runs there without git."""
    for relative in tracked_files(repo):
        if relative == "dvc.lock":  # the scratch pipeline starts from nothing, whatever ran here
            continue
        source = repo / relative
        if source.is_file():
            target = dest / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    params = overlay_params(repo / "params.yaml", overlay)
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    _run(["dvc", "config", "core.no_scm", "true"], dest)
    return dest


def stage_environment() -> dict:
    """The stage commands call `affect` and `dvc`: this interpreter's bin folder goes first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("AFFECT_ROOT", None)
    env.pop("MLFLOW_TRACKING_URI", None)  # the scratch project's own sqlite store
    return env


def _run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(command, cwd=cwd, env=stage_environment(), capture_output=True, text=True)
    if check and done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-25:])
        raise AffectError(f"`{' '.join(command)}` failed with exit code {done.returncode}:\n{tail}", path=cwd)
    return done


def run_pipeline(project: Path, targets: tuple[str, ...] = ("report",)) -> float:
    """``dvc repro <targets>`` in the scratch project (the whole pipeline up to the report by default); returns its
    wall-clock seconds."""
    started = time.perf_counter()
    _run(["dvc", "repro", *targets], project)
    return time.perf_counter() - started


def training_stage_entries(params: dict) -> dict[str, dict]:
    """Each training stage of a params dict as dvc.yaml names it (``train@<key>`` / ``train_rec@<key>``) -> its
    params entry (``id``, ``args``)."""
    return {f"{stage}@{key}": entry for group, stage in (("experiments", "train"), ("rec_experiments", "train_rec"))
            for key, entry in (params.get(group) or {}).items()}


def training_stages(project: Path, experiment_ids: list[str]) -> tuple[str, ...]:
    """The DVC stages that train these experiments in the scratch project (``train@<key>`` / ``train_rec@<key>``);
    `dvc repro` of them also runs the stand-in and preprocessing stages they read, and nothing else."""
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    stages = {str(entry["id"]): stage for stage, entry in training_stage_entries(params).items()}
    unknown = [e for e in experiment_ids if e not in stages]
    if unknown:
        raise AffectError(f"not in this experiment set: {', '.join(unknown)}", path=project / "params.yaml",
                          hint=f"one of {', '.join(sorted(stages))}")
    return tuple(stages[e] for e in experiment_ids)


def check(project: Path, baselines: Path = BASELINES, expect_drop: bool = False,
          only: list[str] | None = None) -> subprocess.CompletedProcess:
    """`affect report --check-regression` of the scratch results against the repository's baselines (``only``:
    against these experiments' bands alone, written to a file in the scratch project)."""
    if only:
        subset = json.loads(baselines.read_text(encoding="utf-8"))
        subset["experiments"] = {e: band for e, band in subset["experiments"].items() if e in only}
        baselines = project / "reports" / f"only-{baselines.name}"
        write_json(baselines, subset)
    command = ["affect", "report", "--check-regression", "--baselines", str(baselines)]
    return _run(command + (["--expect-drop"] if expect_drop else []), project, check=False)


def run_negative_control(project: Path, mode: str, targets: tuple[str, ...] = ("report",)) -> float:
    """The same scratch project again with ``negative_control: mode`` in its params.yaml: the data stages are
    cached, so only the training stages that ``targets`` reach re-run (and the report, when it is a target);
    returns the seconds that took."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text(encoding="utf-8"))
    params["negative_control"] = mode
    path.write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return run_pipeline(project, targets)


def pipeline_seed_runs(project: Path, seeds: list[int], profile: str) -> list[str]:
    """The scratch pipeline's own result of each experiment as the seed run of params.yaml's ``seed``, when that
    seed is one of ``seeds``: copied to results/<name>/<dataset>/seeds/<seed>/ so the refresh trains only the
    other seeds. Sound only in a fresh scratch project: the stage ran ``affect train <id> seed=<seed>`` with the
    same profile and the same overrides (params.yaml's negative control and the entry's args) that a seed run
    passes, with this checkout's code, so training it again would reproduce it. Returns the ids reused."""
    params = yaml.safe_load((project / "params.yaml").read_text(encoding="utf-8"))
    seed = params.get("seed")
    if seed not in seeds:
        return []
    reused = []
    for group in ("experiments", "rec_experiments"):
        for entry in (params.get(group) or {}).values():
            name, _, dataset = str(entry["id"]).partition("/")
            main = project / "results" / name / dataset
            run = main / "run.json"
            if not run.is_file():
                continue
            record = json.loads(run.read_text(encoding="utf-8"))
            if record.get("seed") != seed or record.get("profile") != profile \
                    or record.get("negative_control", "none") != "none":  # a control run is never a band's seed
                continue
            shutil.copytree(main, main / "seeds" / str(seed), ignore=shutil.ignore_patterns("seeds"),
                            dirs_exist_ok=True)
            reused.append(str(entry["id"]))
    return reused


def refresh(project: Path, seeds: list[int], baselines: Path = BASELINES, only: list[str] | None = None,
            profile: str = "quick", commit: str | None = None) -> None:
    """New bands for every quick-pipeline experiment, or (``only``) for the named ones, merged into the others.
    The pipeline's own run counts as one of the seeds (:func:`pipeline_seed_runs`). ``commit``: the checkout the
    scratch project was copied from, taken when it was built (the scratch project has no git history, and the
    checkout may move on during a long refresh); by default its HEAD now."""
    target = project / "reports" / baselines.name  # written in the scratch project, then copied here
    reuse = ["--reuse"] if pipeline_seed_runs(project, seeds, profile) else []
    command = ["affect", "report", "--refresh-baselines", "--baselines", str(target), "--profile", profile,
               *reuse, "--seeds", *map(str, seeds)]
    _run(command + (["--experiments", *only] if only else []), project)
    new = json.loads(target.read_text(encoding="utf-8"))
    new["git_commit"] = commit or git_commit(REPO)
    if not only:
        write_json(baselines, new)
        return
    merged = merge_baselines(json.loads(baselines.read_text(encoding="utf-8")), new, only)
    write_json(baselines, merged)


def merge_baselines(old: dict, new: dict, only: list[str]) -> dict:
    """``old`` with the entries of ``only`` replaced by ``new``'s; refused when seeds or profile differ (the
    bands would not be comparable). Each partial refresh is recorded under ``partial_refreshes``."""
    for key in ("profile", "seeds"):
        if old.get(key) is not None and old.get(key) != new.get(key):
            raise AffectError(f"partial refresh with {key}={new.get(key)!r}, but the baselines have "
                              f"{old.get(key)!r}: refresh every experiment instead")
    missing = [e for e in only if e not in new.get("experiments", {})]
    if missing:
        raise AffectError(f"the refresh produced no band for {missing}")
    merged = {**old, "experiments": {**old.get("experiments", {}),
                                     **{e: new["experiments"][e] for e in only}}}
    history = list(old.get("partial_refreshes", []))
    history.append({"experiments": list(only), "created": new.get("created"), "git_commit": new.get("git_commit")})
    merged["partial_refreshes"] = history
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("check", "refresh"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="refresh: seeds of the bands")
    parser.add_argument("--keep", type=Path, default=None, help="build the scratch project here and keep it")
    parser.add_argument("--overlay", type=Path, default=OVERLAY,
                        help=f"the experiment set: params.yaml keys to replace (default {OVERLAY.relative_to(REPO)}; "
                        f"the extended set: {EXTENDED_OVERLAY.relative_to(REPO)})")
    parser.add_argument("--baselines", type=Path, default=BASELINES,
                        help=f"that set's bands (default {BASELINES.relative_to(REPO)}; the extended set's: "
                        f"{EXTENDED_BASELINES.relative_to(REPO)})")
    parser.add_argument("--negative-control", default=None, choices=("permuted_labels", "blank_input"),
                        help="check, or refresh once the new bands are written: afterwards re-run the experiments "
                        "with this control and require every one of them to DROP below its band (proof that the "
                        "bands can fail)")
    parser.add_argument("--experiments", nargs="+", default=None, metavar="ID",
                        help="refresh: only these experiments' bands (the others are kept; only their stages run, "
                        "and the control, if asked for, is checked on them alone); for a change that touches only "
                        "them")
    args = parser.parse_args(argv)
    scratch = None if args.keep else tempfile.TemporaryDirectory(prefix="affect-quick-")
    project = args.keep or Path(scratch.name)
    try:
        project.mkdir(parents=True, exist_ok=True)
        commit = git_commit(REPO)  # what the scratch project is copied from
        build_project(project, overlay=args.overlay.resolve())
        # a partial refresh runs only the named experiments' stages (and what they read), not the whole set
        only = args.experiments if args.action == "refresh" and args.experiments else None
        targets = training_stages(project, only) if only else ("report",)
        seconds = run_pipeline(project, targets)
        print(f"quick pipeline: `dvc repro {' '.join(targets)}` took {seconds:.0f} s in {project}")
        if args.action == "refresh":
            profile = yaml.safe_load(args.overlay.read_text(encoding="utf-8")).get("profile", "quick")
            refresh(project, args.seeds, baselines=args.baselines.resolve(), only=args.experiments, profile=profile,
                    commit=commit)
            print(f"wrote {args.baselines}")
            returncode = 0
        else:
            done = check(project, baselines=args.baselines.resolve())
            print(done.stdout + done.stderr, end="")
            returncode = done.returncode
        if not args.negative_control:
            return returncode
        seconds = run_negative_control(project, args.negative_control, targets)
        print(f"negative control ({args.negative_control}): `dvc repro {' '.join(targets)}` took {seconds:.0f} s")
        control = check(project, baselines=args.baselines.resolve(), expect_drop=True, only=only)
        print(control.stdout + control.stderr, end="")
        return returncode or control.returncode
    except AffectError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        if scratch is not None:
            scratch.cleanup()


if __name__ == "__main__":
    sys.exit(main())
