"""benchmarks/rrrn_megc2018.py without training: the plan it runs, rows kept across calls, controls kept out of the
seed spread, and clear errors for a missing index, rows of other data or a malformed results file."""

import json

import pandas as pd
import pytest
from benchmark_module import load_benchmark


def _source(tmp_path, label="a"):
    for name in ("casme2", "samm"):
        (tmp_path / "src" / name).mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"clip": [f"{name}-1"], "emotion": [label], "standin": [True]}).to_csv(
            tmp_path / "src" / name / "index.csv", index=False)
    return tmp_path / "src"


def _fake_run(calls):
    def run(experiment, seed, scratch, overrides):
        calls.append((experiment, seed, overrides))
        control = any("negative_control" in o for o in overrides)
        uf1 = 0.2 if control else 0.4 + 0.01 * seed
        return {"experiment": experiment, "seed": seed, "overrides": list(overrides), "wall_seconds": 1.0,
                "cpu_seconds": 2.0, "load_average_1min_at_start": 0.5, "fold_seconds": {"dataset=samm": 0.5},
                "metrics": {"uf1": uf1, "uar": uf1, "majority_uf1": 0.11, "n_folds": 2, "n_samples": 322}}
    return run


def test_seeds_and_control_are_run_once_and_summarised_apart(tmp_path, monkeypatch):
    bench = load_benchmark("rrrn_megc2018", monkeypatch)
    calls = []
    monkeypatch.setattr(bench, "run_experiment", _fake_run(calls))
    source, out = _source(tmp_path), tmp_path / "out.json"
    result = bench.main(["rrrn-lodo/megc2018"], [0, 1], True, source, ("trainer.fold_workers=1",), out, tmp_path)
    assert [(e, s) for e, s, _ in calls] == [("rrrn-lodo/megc2018", 0), ("rrrn-lodo/megc2018", 1),
                                             ("rrrn-lodo/megc2018", 0)]
    assert calls[0][2] == (f"data.processed_root={source}", "trainer.fold_workers=1")
    assert calls[2][2][-1] == "data.negative_control=permuted_labels"
    summary = result["seeds"]["rrrn-lodo/megc2018"]
    assert summary["uf1"]["values"] == [0.4, 0.41] and summary["seeds"] == [0, 1] and summary["control_uf1"] == 0.2
    assert set(json.loads(out.read_text())["runs"]) == {"rrrn-lodo/megc2018[seed=0]", "rrrn-lodo/megc2018[seed=1]",
                                                        "rrrn-lodo/megc2018[control]"}
    bench.main(["rrrn-lodo/megc2018"], [0, 1, 2], True, source, (), out, tmp_path)  # only seed 2 is new
    assert [(e, s) for e, s, _ in calls[3:]] == [("rrrn-lodo/megc2018", 2)]
    assert json.loads(out.read_text())["runs"]["rrrn-lodo/megc2018[seed=2]"]["stand_in"] is True


def test_missing_index_and_other_data_are_clear_errors(tmp_path, monkeypatch):
    bench = load_benchmark("rrrn_megc2018", monkeypatch)
    monkeypatch.setattr(bench, "run_experiment", _fake_run([]))
    with pytest.raises(SystemExit, match="casme2/index.csv: missing; expected the processed casme2 stand-in"):
        bench.main(["rrrn/megc2018"], [0], False, tmp_path / "nowhere", (), tmp_path / "out.json", tmp_path)
    out = tmp_path / "out.json"
    bench.main(["rrrn/megc2018"], [0], False, _source(tmp_path), (), out, tmp_path)
    with pytest.raises(SystemExit, match="holds rows of other data"):
        bench.main(["rrrn/megc2018"], [1], False, _source(tmp_path, label="b"), (), out, tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(SystemExit, match="broken.json: not a results file of benchmarks/rrrn_megc2018.py"):
        bench.main(["rrrn/megc2018"], [0], False, _source(tmp_path), (), tmp_path / "broken.json", tmp_path)
