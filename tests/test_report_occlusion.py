"""The report's occlusion section: read from benchmarks/occlusion.py's results file, partial rows never shown as
results, the permuted-label control in its own column, nothing when the benchmark never ran."""

import json

from reports.document import Heading, Paragraph, Table
from reports.occlusion import NOT_RUN, occlusion_section


def _row(uf1, uar, done=3, total=3):
    return {"uf1": uf1, "uar": uar, "folds_done": done, "n_folds": total, "complete": done == total}


def _write(folder, name, data):
    (folder / name).write_text(json.dumps(data))


def test_no_file_no_section(tmp_path):
    assert occlusion_section(tmp_path) == []


def test_an_unreadable_file_is_a_warning_naming_it(tmp_path):
    (tmp_path / "occlusion.json").write_text("{not json")
    blocks = occlusion_section(tmp_path)
    assert [type(b) for b in blocks] == [Heading, Paragraph]
    assert blocks[1].style == "warn" and str(tmp_path / "occlusion.json") in blocks[1].text
    _write(tmp_path, "occlusion.json", {"benchmarked_methods": ["rrrn"],
                                        "holdout_database": {"clean": {"rrrn": _row(0.43, 0.42)}}})
    (tmp_path / "occlusion_permuted_control.json").write_text("[1, 2]")
    warnings = [b.text for b in occlusion_section(tmp_path) if isinstance(b, Paragraph) and b.style == "warn"]
    assert warnings and "occlusion_permuted_control.json" in warnings[0]


def test_table_cells_partial_rows_and_control(tmp_path):
    _write(tmp_path, "occlusion.json", {
        "benchmarked_methods": ["lbptop_svm", "rrrn"], "majority_uf1": 0.2414,
        "holdout_database": {"clean": {"lbptop_svm": _row(0.6691, 0.6448), "rrrn": _row(0.4281, 0.4241)},
                             "mask": {"lbptop_svm": _row(0.4595, 0.4581), "rrrn": _row(0.2, 0.2, done=2)}},
        "not_run": {"holdout_database": ["glasses/rrrn"]}})
    _write(tmp_path, "occlusion_permuted_control.json",
           {"holdout_database": {"clean": {"rrrn": _row(0.2989, 0.3263)}}})
    blocks = occlusion_section(tmp_path)
    assert isinstance(blocks[0], Heading) and "[stand-in]" in blocks[0].text
    assert any(isinstance(b, Paragraph) and "Not real data" in b.text and "0.241" in b.text for b in blocks)
    tables = [b for b in blocks if isinstance(b, Table)]
    assert len(tables) == 1  # only the table the file holds
    table = tables[0]
    assert table.columns[-1] == "clean, labels permuted (control)"
    cells = {row[0].text: [c.text for c in row[1:]] for row in table.rows}
    assert cells["LBP-TOP + SVM"] == ["0.669 / 0.645", "0.460 / 0.458", NOT_RUN, NOT_RUN, NOT_RUN]
    assert cells["RRRN"] == ["0.428 / 0.424", "partial (2 of 3 folds)", NOT_RUN, NOT_RUN, "0.299 / 0.326"]
    assert table.rows[0][1].style == "standin" and table.rows[1][2].style == ""


def test_copied_landmark_table_has_no_control_column_and_only_methods_run_in_it(tmp_path):
    _write(tmp_path, "occlusion.json", {
        "benchmarked_methods": ["rrrn", "ststnet"],
        "conditions_copied_landmarks": {"clean": {"ststnet": _row(0.624, 0.61, done=72, total=72)}}})
    _write(tmp_path, "occlusion_permuted_control.json", {"holdout_database": {"clean": {"ststnet": _row(0.3, 0.3)}}})
    blocks = occlusion_section(tmp_path)
    [table] = [b for b in blocks if isinstance(b, Table)]
    assert "control" not in table.columns[-1]
    assert [row[0].text for row in table.rows] == ["STSTNet"]  # a method with no cell in this table has no row
    assert any(isinstance(b, Heading) and "LOSO" in b.text and "copied" in b.text for b in blocks)


def _seeded(uf1, seed=None, identity="d1"):
    return _row(uf1, uf1) | {"data_identity": identity, "overrides": [f"seed={seed}"] if seed is not None else []}


def test_seed_files_add_a_table_over_seeds_and_name_what_they_leave_out(tmp_path):
    _write(tmp_path, "occlusion.json", {
        "benchmarked_methods": ["rrrn", "mpt"], "data_identity": "d1",
        "holdout_database": {"clean": {"rrrn": _seeded(0.40), "mpt": _seeded(0.37)},
                             "mask": {"rrrn": _seeded(0.44)}}})
    blocks = occlusion_section(tmp_path)
    assert len([b for b in blocks if isinstance(b, Table)]) == 1  # one seed per cell: no table over seeds
    _write(tmp_path, "occlusion_seed1.json", {"holdout_database": {
        "clean": {"rrrn": _seeded(0.50, 1), "mpt": _seeded(0.30, 1, identity="other")},
        "mask": {"rrrn": _row(0.1, 0.1, done=1) | {"data_identity": "d1", "overrides": ["seed=1"]}}}})
    _write(tmp_path, "occlusion_seed2.json", {"holdout_database": {"clean": {"rrrn": _seeded(0.45, 2)}}})
    (tmp_path / "occlusion_seed3.json").write_text("{broken")
    blocks = occlusion_section(tmp_path)
    table = [b for b in blocks if isinstance(b, Table)][-1]
    cells = {row[0].text: [c.text for c in row[1:]] for row in table.rows}
    assert cells["RRRN"] == ["0.450 +- 0.050 (3 seeds)", "0.440 (1 seed)", NOT_RUN, NOT_RUN]  # partial: not counted
    assert cells["MPT"] == ["0.370 (1 seed)", NOT_RUN, NOT_RUN, NOT_RUN]  # other data: left out
    warnings = " ".join(b.text for b in blocks if isinstance(b, Paragraph) and b.style == "warn")
    assert "occlusion_seed1.json: clean/mpt was scored on other data" in warnings
    assert "occlusion_seed3.json not read" in warnings
    _write(tmp_path, "occlusion_seed2.json", {"holdout_database": {"clean": {"rrrn": _seeded(0.41, 1)}}})
    warnings = " ".join(b.text for b in occlusion_section(tmp_path) if isinstance(b, Paragraph) and b.style == "warn")
    assert "occlusion_seed2.json: clean/rrrn seed 1 scores 0.4100, occlusion_seed1.json 0.5000" in warnings


def test_a_method_left_unrun_on_purpose_keeps_its_row_and_its_reason_is_printed(tmp_path):
    _write(tmp_path, "occlusion.json", {
        "benchmarked_methods": ["rrrn", "mpt"],
        "conditions": {"clean": {"rrrn": _row(0.448, 0.456, done=72, total=72)}},
        "not_run_reasons": {"conditions": {"mpt": "16 CPU hours for a model at its control"},
                            "holdout_database": {"rrrn": "not in this file's tables"}}})
    blocks = occlusion_section(tmp_path)
    [table] = [b for b in blocks if isinstance(b, Table)]
    cells = {row[0].text: [c.text for c in row[1:]] for row in table.rows}
    assert cells["MPT"] == [NOT_RUN] * 4 and cells["RRRN"][0] == "0.448 / 0.456"
    notes = [b.text for b in blocks if isinstance(b, Paragraph) and "on purpose" in b.text]
    assert notes == ["MPT: its missing cells are left unrun on purpose. 16 CPU hours for a model at its control"]
