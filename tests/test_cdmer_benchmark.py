"""benchmarks/cdmer.py --from-results: the pipeline's own CDMER runs read into the task x method table."""

import json

import pytest
from benchmark_module import load_benchmark


def _bench():
    return load_benchmark("cdmer")


def _run(project, name, task, uar, oracle=None):
    folder = project / "results" / name / task
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps({"uar": uar, "uf1": uar - 0.01, "n_samples": 71}))
    details = {"n_source": 164, "selection_rule": "reverse_validation", "selected": {"lam": 1.0}, "war": 0.5,
               "grid": [{"lam": 1.0}, {"lam": 100.0}], "seconds": {"fit_all_points": 2.0},
               "selection": {"source_cv": {"uar": 0.3}, "reverse_validation": {"uar": uar}}}
    if oracle is not None:
        details |= {"oracle": {"uar": oracle, "params": {"lam": 100.0}}, "oracle_gap_uar": oracle - uar}
    (folder / "details.json").write_text(json.dumps(details))
    (folder / "run.json").write_text(json.dumps({"seconds": 12.5, "seed": 0, "git_commit": "abc", "profile": "full"}))


def test_harvest_reads_each_run_and_summarises_what_it_has(tmp_path):
    bench = _bench()
    _run(tmp_path, "tsrg", "casme2_to_smic", 0.40, oracle=0.45)
    _run(tmp_path, "tsrg", "smic_to_casme2", 0.50, oracle=0.50)
    _run(tmp_path, "source_only", "casme2_to_smic", 0.42)
    rows = bench.harvest(tmp_path, ["tsrg", "source_only", "coral"], ["casme2_to_smic", "smic_to_casme2"])
    assert [(r["name"], r["task"]) for r in rows] == [("tsrg", "casme2_to_smic"), ("source_only", "casme2_to_smic"),
                                                      ("tsrg", "smic_to_casme2")]
    first = rows[0]
    assert first["uar"] == 0.40 and first["oracle_uar"] == 0.45 and first["source_cv_uar"] == 0.3
    assert first["grid_points"] == 2 and first["n_target"] == 71 and first["wall_seconds"] == 12.5
    assert first["profile"] == "full" and first["cpu_seconds"] is None
    summary = bench.summarise(rows)
    assert abs(summary["tsrg"]["mean_uar"] - 0.45) < 1e-9 and abs(summary["tsrg"]["mean_gap_uar"] - 0.025) < 1e-9
    assert summary["source_only"]["mean_oracle_uar"] is None and summary["source_only"]["n_tasks"] == 1


def _table(seed, uars, name="rstr"):
    """A table as the script writes it for one draw: source-only and ``name`` on tasks a, b."""
    runs = []
    for task, (mine, base) in uars.items():
        runs.append({"task": task, "name": "source_only", "uar": base, "oracle_uar": base, "uf1": base})
        runs.append({"task": task, "name": name, "uar": mine, "oracle_uar": mine + 0.02, "uf1": mine})
    return {"standin_seed_casme2": seed, "runs": runs}


def test_combine_draws_averages_per_draw_means_and_counts_wins():
    bench = _bench()
    combined = bench.combine_draws([_table(11, {"a": (0.5, 0.4), "b": (0.3, 0.4)}),
                                    _table(21, {"a": (0.7, 0.4), "b": (0.5, 0.4)})])
    rstr = combined["by_method"]["rstr"]
    assert rstr["draws_complete"] == 2
    assert abs(rstr["mean_uar_over_draws"]["mean"] - 0.5) < 1e-9  # draw means 0.4 and 0.6
    assert abs(rstr["mean_uar_over_draws"]["std"] - 0.1) < 1e-9
    assert rstr["per_draw"]["11"]["tasks_beating_source_only"] == 1
    assert rstr["per_draw"]["21"]["tasks_beating_source_only"] == 2
    assert combined["by_method"]["source_only"]["per_draw"]["11"]["tasks_beating_source_only"] is None
    assert abs(combined["by_cell"]["a/rstr"]["oracle_uar"]["mean"] - 0.62) < 1e-9


def test_combine_draws_leaves_out_an_incomplete_draw_and_refuses_an_unknown_one():
    bench = _bench()
    partial = _table(21, {"a": (0.7, 0.4)})
    combined = bench.combine_draws([_table(11, {"a": (0.5, 0.4), "b": (0.3, 0.4)}), partial])
    assert combined["by_method"]["rstr"]["draws_complete"] == 1  # draw 21 lacks task b
    assert combined["by_cell"]["a/rstr"]["uar"]["n"] == 2
    with pytest.raises(ValueError, match="draw is unknown"):
        bench.combine_draws([{"runs": []}])
