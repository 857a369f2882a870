"""iMiGUE and SMG skeleton layouts: the writer twin and the parser agree; bad folders are reported clearly."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DatasetError
from rawdata.check import check_dataset
from rawdata.layouts import imigue, parse, smg
from rawdata.layouts.skeleton_arrays import load_samples


def _arrays(rng, n, layout, frames=12):
    return rng.normal(size=(n, len(layout.channels), frames, layout.n_joints, 1)).astype(np.float32)


def _imigue_release(root, label_format="json", test_videos=(7, 8)):
    rng = np.random.default_rng(0)
    train_names = [imigue.sample_name(v, k) for v in (1, 2, 3) for k in range(2)]
    test_names = [imigue.sample_name(v, k) for v in test_videos for k in range(2)]
    splits = {
        "train": (train_names, [0, 5, 31, 2, 3, 4], _arrays(rng, 6, imigue.LAYOUT)),
        "test": (test_names, [1, 1, 2, 30], _arrays(rng, 4, imigue.LAYOUT)),
    }
    imigue.write(root, splits, label_format=label_format)
    return splits


@pytest.mark.parametrize("label_format", ["json", "csv"])
def test_imigue_round_trip(tmp_path, label_format):
    splits = _imigue_release(tmp_path, label_format)
    result = imigue.parse(tmp_path)
    assert result.usable and not result.problems
    index = result.index
    assert list(index["split"]) == ["train"] * 6 + ["test"] * 4
    assert index.loc[0, "subject"] == "1" and index.loc[0, "clip"] == "0001_0"
    assert index.loc[0, "sample_id"] == "imigue_1_0001_0"
    assert list(index["label"]) == splits["train"][1] + splits["test"][1]
    arrays = load_samples(index.iloc[[7, 0, 9]].reset_index(drop=True), imigue.LAYOUT)
    np.testing.assert_array_equal(arrays[0], splits["test"][2][1])
    np.testing.assert_array_equal(arrays[1], splits["train"][2][0])
    np.testing.assert_array_equal(arrays[2], splits["test"][2][3])


def test_smg_round_trip_and_subject_names(tmp_path):
    rng = np.random.default_rng(1)
    names = [smg.sample_name(s, k) for s in (1, 12) for k in (0, 13)]
    smg.write(tmp_path, {"train": (names[:2], [0, 16], _arrays(rng, 2, smg.LAYOUT)),
                         "test": (names[2:], [3, 4], _arrays(rng, 2, smg.LAYOUT))}, label_format="json")
    index = smg.parse(tmp_path).index
    assert names == ["Sample00010", "Sample000113", "Sample00120", "Sample001213"]
    assert list(zip(index["subject"], index["clip"])) == [("1", "0"), ("1", "13"), ("12", "0"), ("12", "13")]
    assert smg.subject_of("Sample0040_7") == ("40", "7")


def test_pickled_labels_must_be_converted_first(tmp_path):
    _imigue_release(tmp_path, label_format="pkl")
    with pytest.raises(DatasetError, match=r"train_label\.pkl.*affect data convert"):
        imigue.parse(tmp_path)


def test_problems_are_listed_with_their_files(tmp_path):
    _imigue_release(tmp_path, test_videos=(3, 9))
    (tmp_path / "test_label.json").write_text('[["0003_0", "0003_1", "0009_0", "0009_1"], [1, 1, 2, 32]]')
    result = imigue.parse(tmp_path)
    messages = [str(p) for p in result.problems]
    assert not result.usable
    assert any(m.startswith("error") and "test_label.json" in m and "[32]" in m for m in messages)
    assert any(m.startswith("warning") and "['3']" in m and "both train and test" in m for m in messages)


def test_missing_split_and_wrong_shapes(tmp_path):
    _imigue_release(tmp_path)
    (tmp_path / "test_data.npy").unlink()
    result = imigue.parse(tmp_path)
    assert any("test_data.npy" in str(p) and p.severity == "error" for p in result.problems)
    np.save(tmp_path / "train_data.npy", np.zeros((6, 3, 12, 25, 1), dtype=np.float32))
    with pytest.raises(DatasetError, match=r"train_data\.npy.*\(N, 3, T, 22, M\)"):
        imigue.parse(tmp_path)


def test_bad_sample_names_and_counts(tmp_path):
    _imigue_release(tmp_path)
    (tmp_path / "train_label.json").write_text('[["a", "b", "c", "d", "e", "f"], [0, 0, 0, 0, 0, 0]]')
    with pytest.raises(DatasetError, match=r"train_label\.json: row 0: sample name 'a' is not <video>_<k>"):
        imigue.parse(tmp_path)
    (tmp_path / "train_label.json").write_text('[["0001_0"], [0]]')
    with pytest.raises(DatasetError, match="1 labels for 6 samples"):
        imigue.parse(tmp_path)


def test_registered_formats_and_data_check(tmp_path):
    _imigue_release(tmp_path)
    assert parse("imigue", tmp_path).usable
    report = check_dataset("imigue", tmp_path, images="none")
    assert report.usable and report.samples == 10
    assert report.subjects == {"1": 2, "2": 2, "3": 2, "7": 2, "8": 2}
    assert report.classes[1] == 2
