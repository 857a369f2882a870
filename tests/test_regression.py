"""CI regression: re-run the quick pipeline (experiments/quick_pipeline.py) and hold its metrics to their bands.

This is the test that makes CI fail when a method's UF1/UAR (or Recall@20) regresses: it copies the repository
into a scratch project, runs `dvc repro report` there on the quick stand-ins and profile, and compares every
experiment of experiments/quick_pipeline.yaml with reports/baselines.json. A failure prints the table of what left
its band. Refresh the bands deliberately with `python -m experiments.quick_pipeline refresh` (see docs/report.md).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _assert_bands_cover(overlay_name: str, baselines_name: str, profile: str) -> None:
    """The set's bands cover exactly its experiments, each from >= 2 stand-in seeds, each clearly above its trivial
    floor (reports/evidence.py)."""
    overlay = yaml.safe_load((REPO / "experiments" / f"{overlay_name}.yaml").read_text())
    wanted = {e["id"] for group in ("experiments", "rec_experiments") for e in overlay[group].values()}
    baselines = json.loads((REPO / "reports" / baselines_name).read_text())
    assert baselines["profile"] == overlay["profile"] == profile
    assert set(baselines["experiments"]) == wanted, "refresh the bands (docs/report.md)"
    for exp_id, entry in baselines["experiments"].items():
        assert entry["standin"] is True and len(entry["seeds"]) >= 2, exp_id
        for metric, band in entry["metrics"].items():
            assert band["low"] <= band["mean"] <= band["high"], (exp_id, metric)
        assert entry["evidence"]["status"] == "clear", (exp_id, entry["evidence"])


def test_baselines_cover_every_quick_pipeline_experiment():
    _assert_bands_cover("quick_pipeline", "baselines.json", "quick")


def test_quick_pipeline_stays_inside_its_bands():
    """The regression check of `make test` and CI: every quick-pipeline experiment inside its band."""
    command = [sys.executable, "-m", "experiments.quick_pipeline", "check"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, f"quick pipeline regression:\n{done.stdout[-8000:]}\n{done.stderr[-3000:]}"
    assert "regression check: passed" in done.stdout and "DROP" not in done.stdout and "JUMP" not in done.stdout


def _check_with_permuted_label_control(*set_args: str, timeout: int) -> None:
    """The set's regression check, then its power: the same experiments with labels permuted across clips must all
    DROP below their bands."""
    command = [sys.executable, "-m", "experiments.quick_pipeline", "check", *set_args,
               "--negative-control", "permuted_labels"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"regression:\n{done.stdout[-8000:]}\n{done.stderr[-3000:]}"
    check, _, control = done.stdout.partition("negative control (permuted_labels)")
    assert "regression check: passed" in check and "DROP" not in check and "JUMP" not in check
    assert "every experiment DROP" in control


@pytest.mark.slow
def test_quick_pipeline_stays_inside_its_bands_and_a_permuted_label_control_leaves_them():
    """Behind `slow` (`make test-slow`): with the control the default test run passed its 15-minute budget."""
    _check_with_permuted_label_control(timeout=1500)


def test_extended_baselines_cover_every_extended_experiment():
    _assert_bands_cover("quick_pipeline_extended", "baselines_extended.json", "default")


@pytest.mark.slow
def test_extended_set_stays_inside_its_bands_and_a_permuted_label_control_leaves_them():
    """The extended set's check and control (tens of minutes on 2 cores: docs/report.md): behind `slow`."""
    _check_with_permuted_label_control("--overlay", "experiments/quick_pipeline_extended.yaml", "--baselines",
                                       "reports/baselines_extended.json", timeout=7200)


def test_the_extended_set_adds_to_the_quick_set_and_brings_the_data_it_reads():
    overlays = {name: yaml.safe_load((REPO / "experiments" / f"{name}.yaml").read_text())
                for name in ("quick_pipeline", "quick_pipeline_extended")}
    ids = {name: {e["id"] for g in ("experiments", "rec_experiments") for e in o[g].values()}
           for name, o in overlays.items()}
    assert not ids["quick_pipeline"] & ids["quick_pipeline_extended"]
    extended = overlays["quick_pipeline_extended"]
    for group in ("experiments", "rec_experiments"):
        for key, entry in extended[group].items():
            parts = Path(entry["data"]).parts  # data/raw/<stand-in>, data/processed[/<dataset>] or data/raw (pairs)
            if parts[:2] == ("data", "raw") and len(parts) > 2:
                assert parts[2] in extended["standins"], key
            elif len(parts) > 2:
                assert parts[2] in extended["datasets"] and parts[2] in extended["standins"], key
    for name, dataset in extended["datasets"].items():
        assert name in extended["standins"] and dataset["root"] == f"data/raw/{name}", name


def test_refresh_writes_the_bands_of_the_set_it_was_given(tmp_path, monkeypatch):
    from experiments import quick_pipeline

    calls = []

    def fake_run(command, cwd, check=True):
        calls.append(command)
        target = Path(command[command.index("--baselines") + 1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"profile": "default", "seeds": [0, 1], "experiments": {}}))

    monkeypatch.setattr(quick_pipeline, "_run", fake_run)
    project = tmp_path / "project"
    entries = {"a--casme2": {"id": "a/casme2"}, "b--casme2": {"id": "b/casme2"}, "c--casme2": {"id": "c/casme2"}}
    (project / "results").mkdir(parents=True)
    (project / "params.yaml").write_text(yaml.safe_dump({"seed": 0, "experiments": entries}))
    for name, record in (("a", {"seed": 0, "profile": "default"}), ("b", {"seed": 0, "profile": "quick"}),
                         ("c", {"seed": 0, "profile": "default", "negative_control": "permuted_labels"})):
        (project / "results" / name / "casme2").mkdir(parents=True)
        (project / "results" / name / "casme2" / "run.json").write_text(json.dumps(record))
    out = tmp_path / "repo" / "baselines_extended.json"
    out.parent.mkdir()
    quick_pipeline.refresh(project, [0, 1], baselines=out, profile="default", commit="abc123")
    command = calls[0]
    # the pipeline's own seed-0 run of the same profile is seed 0's run; the quick-profile one and the control
    # run are trained again
    assert "--reuse" in command and (project / "results/a/casme2/seeds/0/run.json").is_file()
    assert not (project / "results/b/casme2/seeds").exists() and not (project / "results/c/casme2/seeds").exists()
    assert quick_pipeline.pipeline_seed_runs(project, [1, 2], "default") == []
    assert command[command.index("--profile") + 1] == "default"
    assert command[command.index("--baselines") + 1] == str(project / "reports" / out.name)
    written = json.loads(out.read_text())
    assert written["profile"] == "default" and written["git_commit"] == "abc123"  # the scratch project has no git


def test_partial_refresh_replaces_only_the_named_bands_and_refuses_other_seeds():
    import pytest

    from core.errors import AffectError
    from experiments.quick_pipeline import merge_baselines

    old = {"profile": "quick", "seeds": [0, 1, 2], "created": "then",
           "experiments": {"a/casme2": {"metrics": {"uf1": {"mean": 0.1}}}, "b/casme2": {"metrics": {}}}}
    new = {"profile": "quick", "seeds": [0, 1, 2], "created": "now", "git_commit": "abc",
           "experiments": {"a/casme2": {"metrics": {"uf1": {"mean": 0.3}}}}}
    merged = merge_baselines(old, new, ["a/casme2"])
    assert merged["experiments"]["a/casme2"]["metrics"]["uf1"]["mean"] == 0.3
    assert merged["experiments"]["b/casme2"] == {"metrics": {}}
    assert merged["partial_refreshes"] == [{"experiments": ["a/casme2"], "created": "now", "git_commit": "abc"}]
    with pytest.raises(AffectError, match="seeds"):
        merge_baselines(old, {**new, "seeds": [0, 1]}, ["a/casme2"])
    with pytest.raises(AffectError, match="no band"):
        merge_baselines(old, new, ["b/casme2"])


def test_refresh_with_a_negative_control_writes_the_bands_first_then_proves_they_can_fail(tmp_path, monkeypatch):
    import subprocess as sp

    from experiments import quick_pipeline

    steps = []
    monkeypatch.setattr(quick_pipeline, "build_project", lambda project, overlay: steps.append("build"))
    monkeypatch.setattr(quick_pipeline, "run_pipeline", lambda project, targets: steps.append(targets) or 1.0)
    monkeypatch.setattr(quick_pipeline, "refresh", lambda *a, **k: steps.append("refresh"))
    monkeypatch.setattr(quick_pipeline, "run_negative_control",
                        lambda project, mode, targets: steps.append((mode, targets)) or 1.0)
    monkeypatch.setattr(quick_pipeline, "training_stages",
                        lambda project, ids: tuple(f"train@{i.replace('/', '--')}" for i in ids))

    def fake_check(project, baselines, expect_drop=False, only=None):
        steps.append(f"check(expect_drop={expect_drop}, only={only})")
        return sp.CompletedProcess([], 1, "every experiment DROP: no\n", "")

    monkeypatch.setattr(quick_pipeline, "check", fake_check)
    code = quick_pipeline.main(["refresh", "--keep", str(tmp_path), "--negative-control", "permuted_labels"])
    assert steps == ["build", ("report",), "refresh", ("permuted_labels", ("report",)),
                     "check(expect_drop=True, only=None)"]
    assert code == 1  # a control that does not drop every experiment fails the command
    # a partial refresh runs the named experiments' stages only, and holds only them to the control
    steps.clear()
    quick_pipeline.main(["refresh", "--keep", str(tmp_path), "--negative-control", "permuted_labels",
                         "--experiments", "a/casme2"])
    assert steps == ["build", ("train@a--casme2",), "refresh", ("permuted_labels", ("train@a--casme2",)),
                     "check(expect_drop=True, only=['a/casme2'])"]


def test_partial_refresh_finds_the_training_stages_and_checks_only_their_bands(tmp_path, monkeypatch):
    from core.errors import AffectError
    from experiments import quick_pipeline

    project = tmp_path / "project"
    project.mkdir()
    (project / "params.yaml").write_text(yaml.safe_dump({
        "experiments": {"a--casme2": {"id": "a/casme2"}}, "rec_experiments": {"m--recsynth": {"id": "m/recsynth"}}}))
    assert quick_pipeline.training_stages(project, ["m/recsynth", "a/casme2"]) == ("train_rec@m--recsynth",
                                                                                   "train@a--casme2")
    with pytest.raises(AffectError, match="not in this experiment set: z/casme2"):
        quick_pipeline.training_stages(project, ["z/casme2"])
    commands = []
    monkeypatch.setattr(quick_pipeline, "_run", lambda command, cwd, check=True: commands.append(command))
    baselines = tmp_path / "baselines.json"
    baselines.write_text(json.dumps({"profile": "quick", "experiments": {"a/casme2": {}, "m/recsynth": {}}}))
    quick_pipeline.check(project, baselines, expect_drop=True, only=["m/recsynth"])
    used = Path(commands[0][commands[0].index("--baselines") + 1])
    assert used.parent == project / "reports" and "--expect-drop" in commands[0]
    assert set(json.loads(used.read_text())["experiments"]) == {"m/recsynth"}
