"""The transductive cross-database protocol: the benchmark's tasks, the fold, label spaces, no target labels in fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from core.errors import ConfigError, DatasetError
from datamodules.cross_database import (
    TargetKey,
    TransductiveProblem,
    benchmark_tasks,
    check_label_spaces,
    transductive_split,
)
from datamodules.protocols import cross_database_fold, make_folds
from rawdata.datasets import DATASETS

CLASSES = ("negative", "positive", "surprise")


def index_of(counts: dict[str, dict[int, int]]) -> pd.DataFrame:
    """{dataset: {class: n}} -> an index with two subjects per dataset."""
    rows = []
    for dataset, per_class in counts.items():
        for y, n in per_class.items():
            for i in range(n):
                rows.append({"sample_id": f"{dataset}_{y}_{i}", "dataset": dataset, "subject": str(i % 2 + 1), "y": y})
    return pd.DataFrame(rows)


def shifted_problem(seed: int = 0, n: int = 30):
    """Two domains of three Gaussian classes; the target is the source moved and stretched."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    y = np.repeat(np.arange(3), n)
    source = means[y] + rng.normal(size=(3 * n, 2))
    target = 1.5 * (means[y] + rng.normal(size=(3 * n, 2))) + np.array([6.0, -3.0])
    index = pd.concat([
        pd.DataFrame({"sample_id": [f"s{i}" for i in range(3 * n)], "dataset": "casme2", "subject": "1", "y": y}),
        pd.DataFrame({"sample_id": [f"t{i}" for i in range(3 * n)], "dataset": "smic", "subject": "1", "y": y}),
    ], ignore_index=True)
    return index, np.vstack([source, target])


def centred_nearest_centroid(problem: TransductiveProblem) -> np.ndarray:
    """A tiny transductive method: centre each domain on its own mean, nearest source class centroid."""
    xs, xt = problem.xs - problem.xs.mean(0), problem.xt - problem.xt.mean(0)
    centroids = np.stack([xs[problem.ys == c].mean(0) for c in range(problem.n_classes)])
    return np.argmin(((xt[:, None] - centroids[None]) ** 2).sum(-1), axis=1)


# -- the benchmark's tasks ---------------------------------------------------------------------------------------------


def test_the_benchmark_lists_twelve_tasks_within_smic_and_between_casme2_and_smic():
    tasks = benchmark_tasks()
    pairs = {(t.source, t.target) for t in tasks.tasks}
    smic = ("smic", "smic_vis", "smic_nir")
    within = {(a, b) for a in smic for b in smic if a != b}
    between = {(a, b) for c in smic for a, b in (("casme2", c), (c, "casme2"))}
    assert len(tasks.tasks) == 12 and pairs == within | between
    assert {t.group for t in tasks.tasks} == {"within SMIC", "CASME II <-> SMIC"}
    assert tasks.classes == CLASSES and "1812.07742" in tasks.source
    assert all(t.source in DATASETS and t.target in DATASETS for t in tasks.tasks)
    assert tasks.task("casme2_to_smic").target == "smic"
    with pytest.raises(ConfigError, match="unknown cross-database task 'casme2_to_samm'"):
        tasks.task("casme2_to_samm")


def test_a_malformed_task_list_is_an_error_naming_the_file(tmp_path):
    bad = tmp_path / "tasks.yaml"
    bad.write_text("source: x\nclasses: [a]\ntasks:\n  - {source: smic, target: smic}\n")
    with pytest.raises(ConfigError, match="same dataset") as err:
        benchmark_tasks(bad)
    assert str(bad) in str(err.value)
    bad.write_text("classes: [a]\ntasks: []\n")
    with pytest.raises(ConfigError, match="malformed task list"):
        benchmark_tasks(bad)


# -- the fold and the label spaces -------------------------------------------------------------------------------------


def test_the_fold_trains_on_the_source_and_tests_on_the_target():
    index = index_of({"casme2": {0: 4, 1: 2, 2: 2}, "smic": {0: 3, 1: 3, 2: 3}, "samm": {0: 2}})
    fold = cross_database_fold(index, "casme2", "smic")
    assert set(fold.train) == set(index.loc[index.dataset == "casme2", "sample_id"])
    assert set(fold.test) == set(index.loc[index.dataset == "smic", "sample_id"])
    protocol = OmegaConf.create({"name": "cross_database", "source": "smic", "target": "casme2"})
    (made,) = make_folds(index, protocol)
    assert made.name == "smic->casme2" and set(made.train) == set(fold.test) and made.val == ()


@pytest.mark.parametrize("source, target, message", [
    ("casme2", "casme2", "both 'casme2'"),
    ("", "smic", "needs protocol.source and protocol.target"),
    ("casme2", "smic_nir", "protocol.target='smic_nir' is not among the loaded datasets"),
])
def test_a_bad_task_is_a_config_error_naming_the_knob(source, target, message):
    index = index_of({"casme2": {0: 2}, "smic": {0: 2}})
    with pytest.raises(ConfigError, match=message):
        cross_database_fold(index, source, target)


def test_target_classes_the_source_lacks_are_an_error_naming_them():
    index = index_of({"casme2": {0: 4, 1: 2}, "smic": {0: 3, 1: 3, 2: 3}})
    with pytest.raises(DatasetError, match=r"target 'smic' has classes \['surprise'\].*data.label_map.smic"):
        check_label_spaces(index, "casme2", "smic", CLASSES)
    check_label_spaces(index, "smic", "casme2", CLASSES)  # a target with fewer classes is fine


def test_a_dataset_left_without_clips_by_the_mapping_says_so():
    index = index_of({"casme2": {0: 4, 1: 2}})
    with pytest.raises(DatasetError, match=r"protocol.target='smic' has no clips left after the label mapping "
                                           r"\(data.label_map.smic"):
        check_label_spaces(index, "casme2", "smic", CLASSES)


# -- target labels never reach fitting -------------------------------------------------------------------------------


def test_the_problem_a_method_fits_holds_no_target_labels():
    index, features = shifted_problem()
    problem, key = transductive_split(index, features, "casme2", "smic", CLASSES)
    assert problem.xs.shape == problem.xt.shape == (90, 2)
    assert not {"yt", "target_labels", "y_target"} & set(vars(problem))
    assert isinstance(key, TargetKey) and key.target_ids == problem.target_ids
    assert (key.yt == index.loc[index.dataset == "smic", "y"].to_numpy()).all()
    assert set(problem.source_groups) == {"casme2/1"}


def test_predictions_do_not_change_when_the_target_labels_are_shuffled():
    index, features = shifted_problem()
    shuffled = index.copy()
    target = shuffled.dataset == "smic"
    shuffled.loc[target, "y"] = np.random.default_rng(1).permutation(shuffled.loc[target, "y"].to_numpy())
    first, key = transductive_split(index, features, "casme2", "smic", CLASSES)
    second, key2 = transductive_split(shuffled, features, "casme2", "smic", CLASSES)
    assert (centred_nearest_centroid(first) == centred_nearest_centroid(second)).all()
    assert not (key.yt == key2.yt).all()


def test_the_key_scores_uar_uf1_and_the_benchmarks_war():
    key = TargetKey(np.array([0, 0, 0, 1, 2]), CLASSES)
    scores = key.score(np.array([0, 0, 1, 1, 2]))
    assert scores["war"] == scores["accuracy"] == pytest.approx(0.8)
    assert scores["uar"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    index, features = shifted_problem()
    problem, key = transductive_split(index, features, "casme2", "smic", CLASSES)
    assert key.score(centred_nearest_centroid(problem))["uar"] > 0.9
