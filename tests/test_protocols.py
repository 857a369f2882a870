import pandas as pd
import pytest
from omegaconf import OmegaConf

from core.errors import ConfigError
from datamodules.protocols import leave_one_dataset_out, leave_one_subject_out, make_folds


def _index():
    rows = []
    for dataset, subjects in (("casme2", ["1", "2", "10"]), ("smic", ["1", "2"])):
        for s in subjects:
            for c in range(3):
                rows.append({"sample_id": f"{dataset}_{s}_{c}", "dataset": dataset, "subject": s})
    return pd.DataFrame(rows)


def test_loso_keys_subjects_by_dataset_in_a_composite():
    folds = leave_one_subject_out(_index())
    assert len(folds) == 5  # subject 1 of CASME II and subject 1 of SMIC are different people
    assert [f.name for f in folds][:3] == ["subject=casme2/1", "subject=casme2/2", "subject=casme2/10"]
    for fold in folds:
        assert not set(fold.train) & set(fold.test)
        assert len(fold.train) + len(fold.test) == 15
    tested = [s for f in folds for s in f.test]
    assert sorted(tested) == sorted(_index()["sample_id"])


def test_inner_validation_never_uses_the_test_subject():
    index = _index()
    cfg = OmegaConf.create({"name": "loso", "group": ["dataset", "subject"], "validation": "inner",
                            "val_fraction": 0.25, "max_folds": 0})
    for fold in make_folds(index, cfg, seed=3):
        assert fold.val, "a validation split was requested"
        val_subjects = set(index.set_index("sample_id").loc[list(fold.val), "subject"] + "@" +
                           index.set_index("sample_id").loc[list(fold.val), "dataset"])
        test_subjects = set(index.set_index("sample_id").loc[list(fold.test), "subject"] + "@" +
                            index.set_index("sample_id").loc[list(fold.test), "dataset"])
        assert not val_subjects & test_subjects
        assert not set(fold.val) & set(fold.train)


def test_lodo():
    folds = leave_one_dataset_out(_index())
    assert [f.name for f in folds] == ["dataset=casme2", "dataset=smic"]
    with pytest.raises(ConfigError):
        leave_one_dataset_out(_index()[lambda d: d.dataset == "smic"])


def test_subject_kfold_keeps_each_subject_in_one_test_fold_and_balances_samples():
    import pandas as pd
    from omegaconf import OmegaConf

    from datamodules.protocols import make_folds

    rows = [(d, str(s), f"{d}_{s}_{i}") for d, n_subj in (("a", 7), ("b", 5)) for s in range(n_subj)
            for i in range(1 + (s * 3) % 5)]
    index = pd.DataFrame(rows, columns=["dataset", "subject", "sample_id"])
    folds = make_folds(index, OmegaConf.create({"name": "subject_kfold", "n_folds": 4}))
    assert len(folds) == 4
    tested = [s for f in folds for s in f.test]
    assert sorted(tested) == sorted(index["sample_id"])  # every sample tested exactly once
    key = dict(zip(index["sample_id"], index["dataset"] + "/" + index["subject"], strict=True))
    for fold in folds:
        assert not {key[s] for s in fold.test} & {key[s] for s in fold.train}  # subject-disjoint
    sizes = [len(f.test) for f in folds]
    assert max(sizes) - min(sizes) <= 5  # the largest subject holds 5 samples
    import pytest

    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="n_folds"):
        make_folds(index, OmegaConf.create({"name": "subject_kfold", "n_folds": 13}))
