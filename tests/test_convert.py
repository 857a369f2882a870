"""`convert_labels`: plain label pickles convert once to JSON/CSV/npy; anything executable is refused."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest

from core.errors import AffectError
from rawdata.convert import RefusedPickle, convert_labels, load_restricted_pickle

NAMES = ["0054_0", "0054_1", "0067_0"]


def _write_pickle(path, obj, protocol=pickle.HIGHEST_PROTOCOL):
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    return path


class _RunsCode:
    """A pickle payload that would run a shell command when unpickled by plain `pickle.load`."""

    def __reduce__(self):
        return (os.system, ("touch SHOULD_NOT_EXIST",))


class _Custom:
    pass


@pytest.mark.parametrize("protocol", [0, 2, 3, 4, 5])
def test_release_style_tuple_converts_to_json_in_every_protocol(tmp_path, protocol):
    labels = [np.int64(3), np.int64(0), 31]
    src = _write_pickle(tmp_path / "train_label.pkl", (NAMES, labels), protocol)
    out = convert_labels(src, tmp_path / "train_label.json")
    assert json.loads(out.read_text()) == [NAMES, [3, 0, 31]]


def test_csv_output_has_one_row_per_sample(tmp_path):
    src = _write_pickle(tmp_path / "test_label.pkl", (NAMES, np.array([5, 6, 7])))
    out = convert_labels(src, tmp_path / "test_label.csv")
    table = pd.read_csv(out, dtype={"sample_name": str})
    assert table.to_dict("list") == {"sample_name": NAMES, "label": [5, 6, 7]}


def test_numeric_array_converts_to_npy_without_pickle(tmp_path):
    labels = np.arange(12, dtype=np.int16).reshape(3, 4)
    src = _write_pickle(tmp_path / "labels.pkl", labels, protocol=2)
    out = convert_labels(src, tmp_path / "labels.npy")
    np.testing.assert_array_equal(np.load(out, allow_pickle=False), labels)


def test_code_execution_payload_is_refused_and_never_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = _write_pickle(tmp_path / "evil.pkl", (NAMES, [_RunsCode()]))
    with pytest.raises(RefusedPickle, match=r"evil\.pkl.*(posix|os|nt)\.system"):
        convert_labels(src, tmp_path / "evil.json")
    assert not (tmp_path / "SHOULD_NOT_EXIST").exists()
    assert not (tmp_path / "evil.json").exists()


def test_user_classes_and_object_arrays_are_refused(tmp_path):
    custom = _write_pickle(tmp_path / "custom.pkl", [_Custom()])
    with pytest.raises(RefusedPickle, match=r"custom\.pkl.*test_convert\._Custom"):
        load_restricted_pickle(custom)
    objects = _write_pickle(tmp_path / "objects.pkl", np.array([1, "a", None], dtype=object))
    with pytest.raises(RefusedPickle, match="dtype object"):
        load_restricted_pickle(objects)


def test_unusable_inputs_name_the_file(tmp_path):
    with pytest.raises(AffectError, match="file not found"):
        convert_labels(tmp_path / "missing.pkl", tmp_path / "out.json")
    not_pickle = tmp_path / "labels.txt"
    not_pickle.write_text("0054_0,3\n")
    with pytest.raises(AffectError, match=r"labels\.txt: not a readable label pickle"):
        convert_labels(not_pickle, tmp_path / "out.json")
    src = _write_pickle(tmp_path / "ragged.pkl", {"a": [1, 2], "b": "x"})
    with pytest.raises(AffectError, match="not one numeric array"):
        convert_labels(src, tmp_path / "out.npy")
    with pytest.raises(AffectError, match="unsupported output format"):
        convert_labels(src, tmp_path / "out.pkl")
