"""The pipeline's parameter files: params.yaml (the default run), params-full.yaml (every experiment) and the quick
pipeline's overlays (experiments/quick_pipeline.yaml, quick_pipeline_extended.yaml) stay consistent with the
experiments and with each other."""

import re
from pathlib import Path

import pytest
import yaml

from experiments.config import experiment_ids
from rawdata.datasets import DATASETS

REPO = Path(__file__).resolve().parents[1]
FILES = {"default": REPO / "params.yaml", "full": REPO / "params-full.yaml",
         "quick": REPO / "experiments" / "quick_pipeline.yaml",
         "extended": REPO / "experiments" / "quick_pipeline_extended.yaml"}


def _load(name):
    return yaml.safe_load(FILES[name].read_text())


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_pipeline_entry_names_an_experiment_its_data_and_its_args(name):
    params = _load(name)
    assert params["negative_control"] == "none"
    known = set(experiment_ids())
    for group in ("experiments", "rec_experiments"):
        for key, entry in params[group].items():
            assert set(entry) == {"id", "data", "args"}, (name, key)
            assert entry["id"] in known and key == entry["id"].replace("/", "--"), (name, key)
            for word in entry["args"].split():
                assert re.fullmatch(r"[\w.]+=\S+", word), (name, key, word)


def test_the_full_file_runs_every_experiment_with_a_standin_and_lists_the_others():
    full = _load("full")
    text = FILES["full"].read_text()
    active = {e["id"] for g in ("experiments", "rec_experiments") for e in full[g].values()}
    def has_standin(d):  # a cross-database / cross-dataset task has one when both its datasets have
        paired = d.base == "cdmer" or d.format == "eeg_cross"
        return all(DATASETS[n].synth for n in d.name.split("_to_")) if paired else d.synth is not None

    without_standin = {d.name for d in DATASETS.values() if not has_standin(d) and d.name not in
                       ("composite", "au_composite", "megc2018", "movielens")}
    for exp_id in experiment_ids():
        if exp_id.split("/")[1] in without_standin:
            assert f"# {exp_id.replace('/', '--')}: {{id: {exp_id}," in text, exp_id
        else:
            assert exp_id in active, exp_id
    assert full["profile"] == "full" and all(not e["args"] for g in ("experiments", "rec_experiments")
                                             for e in full[g].values())


def test_the_full_file_shares_every_other_key_with_params_yaml():
    default, full = _load("default"), _load("full")
    for key in set(default) - {"profile", "standins", "datasets", "experiments", "rec_experiments"}:
        assert full[key] == default[key], key
    for name, entry in default["datasets"].items():
        assert full["datasets"][name] == entry


def test_the_report_stage_reads_every_report_module():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    deps = set(stages["report"]["deps"])
    assert {f"reports/{p.name}" for p in (REPO / "reports").glob("*.py")} <= deps


CORE_METHODS = ("micro_au_clip", "fgsgl", "masked_decoupling", "befa", "ld4mrec", "mgcn", "dere_grl", "geograph",
                "lbp_sdg")  # the nine papers of ../shared/seeds/papers-core.txt, in its order


def test_the_default_run_trains_every_core_method():
    params = _load("default")
    entries = {**params["experiments"], **params["rec_experiments"]}
    methods = {entry["id"].split("/")[0].split("-")[0] for entry in entries.values()}
    assert set(CORE_METHODS) <= methods, f"missing from `make repro`: {set(CORE_METHODS) - methods}"


def test_dvc_lock_is_not_git_ignored():
    """DVC refuses to write a git-ignored dvc.lock ("'dvc.lock' is git-ignored"), so `make repro` in a clone
    would stop before its first stage."""
    import subprocess

    done = subprocess.run(["git", "check-ignore", "-q", "dvc.lock"], cwd=REPO, check=False)
    assert done.returncode == 1, "dvc.lock is git-ignored: remove it from .gitignore"
