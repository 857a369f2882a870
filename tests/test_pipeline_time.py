"""benchmarks/pipeline_time.py: a long measured run continued on another machine re-runs only unrecorded stages."""

import pytest
from benchmark_module import load_benchmark


@pytest.fixture
def timing():
    return load_benchmark("pipeline_time")


STAGES = ["synth@casme2", "faces@casme2", "train@a--casme2", "train@b--casme2", "report"]


def test_a_first_sitting_runs_everything(timing, tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "all_stages", lambda folder, env: STAGES)
    assert timing.repro_command(tmp_path, {}, {}, {}) == ["dvc", "repro"]


def test_a_later_sitting_asks_only_for_the_stages_not_recorded_and_never_the_report(timing, tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "all_stages", lambda folder, env: STAGES)
    recorded = {"synth@casme2": 50.0, "faces@casme2": 90.0, "train@a--casme2": 300.0}
    assert timing.repro_command(tmp_path, {}, recorded, {}) == ["dvc", "repro", "train@b--casme2"]


def test_the_report_runs_alone_last_and_says_when_it_saw_only_some_results(timing, tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "all_stages", lambda folder, env: STAGES)
    recorded = dict.fromkeys(STAGES[:-1], 1.0)
    (tmp_path / "results" / "b--casme2").mkdir(parents=True)
    (tmp_path / "results" / "b--casme2" / "metrics.json").write_text("{}")
    sitting = {}
    assert timing.repro_command(tmp_path, {}, recorded, sitting) == ["dvc", "repro", "--single-item", "report"]
    assert "1 of the 2 results" in sitting["report_note"]
    (tmp_path / "results" / "a--casme2").mkdir()
    (tmp_path / "results" / "a--casme2" / "metrics.json").write_text("{}")
    sitting = {}
    timing.repro_command(tmp_path, {}, recorded, sitting)
    assert "report_note" not in sitting  # every result is here: a full report


def test_deferred_stages_are_left_to_a_later_sitting_until_nothing_else_is_left(timing, tmp_path, monkeypatch):
    monkeypatch.setattr(timing, "all_stages", lambda folder, env: STAGES)
    recorded = {"synth@casme2": 50.0, "faces@casme2": 90.0}
    sitting = {}
    assert timing.repro_command(tmp_path, {}, recorded, sitting, ("train@a*",)) == ["dvc", "repro", "train@b--casme2"]
    assert sitting["deferred"] == ["train@a--casme2"]
    recorded["train@b--casme2"] = 10.0
    sitting = {}  # only the deferred stage is left: it runs (never straight to the report)
    assert timing.repro_command(tmp_path, {}, recorded, sitting, ("train@a*",)) == ["dvc", "repro", "train@a--casme2"]
    assert "deferred" not in sitting
