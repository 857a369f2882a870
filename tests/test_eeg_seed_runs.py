"""benchmarks/eeg_seed_runs.py reuses a recorded run only when it ran on the very stand-in the script writes."""

from __future__ import annotations

from benchmark_module import load_benchmark

STANDIN = {"kind": "seed_iv", "subjects": 15, "seed": 0, "version": 3}


def _reusable(monkeypatch):
    return load_benchmark("eeg_seed_runs", monkeypatch).reusable


def test_a_recorded_run_is_reused_only_on_the_same_standin(monkeypatch):
    reusable = _reusable(monkeypatch)
    entry = {"standin": STANDIN, "subject_accuracy_mean": 0.6, "cpu_seconds": 70.0}
    runs, why = reusable(entry, STANDIN)
    assert why is None and list(runs) == ["0"]  # no run_seed recorded: the config's default seed 0
    assert runs["0"]["subject_accuracy_mean"] == 0.6
    assert list(reusable({**entry, "run_seed": 2}, STANDIN)[0]) == ["2"]
    for other in ({**STANDIN, "version": 2}, {**STANDIN, "subjects": 6}, {**STANDIN, "seed": 1}):
        runs, why = reusable(entry, other)
        assert runs == {} and "stand-in" in why
    assert reusable({k: v for k, v in entry.items() if k != "standin"}, STANDIN)[0] == {}  # version 1 entries
    assert reusable(None, STANDIN) == ({}, "no recorded entry")
    assert reusable({**entry, "smoke_check_only": True}, STANDIN)[0] == {}


def test_recorded_seed_runs_are_reused_each(monkeypatch):
    reusable = _reusable(monkeypatch)
    entry = {"standin": STANDIN, "run_seed": 0, "seed_runs": {"0": {"subject_accuracy_mean": 0.5},
                                                              "1": {"subject_accuracy_mean": 0.7}}}
    runs, _ = reusable(entry, STANDIN)
    assert {s: r["subject_accuracy_mean"] for s, r in runs.items()} == {"0": 0.5, "1": 0.7}
