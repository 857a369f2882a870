"""`affect data check`: every problem on a corrupted copy of a stand-in, with its file, row and severity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from experiments.cli import main
from rawdata.check import check_dataset, format_report
from rawdata.layouts import parse
from rawdata.synth import generate

CASME2_SHEET = "CASME2-coding-20140508.xlsx"
SAMM_SHEET = "SAMM_Micro_FACS_Codes_v2.xlsx"


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("originals")
    for kind in ("casme2", "samm", "smic"):
        generate(kind, root / kind, subjects=2, seed=3, clips_per_subject=2, workers=1)
    return {kind: root / kind for kind in ("casme2", "samm", "smic")}


@pytest.fixture
def casme2(originals, tmp_path) -> Path:
    return Path(shutil.copytree(originals["casme2"], tmp_path / "casme2"))


@pytest.fixture
def samm(originals, tmp_path) -> Path:
    return Path(shutil.copytree(originals["samm"], tmp_path / "samm"))


def edit_cells(sheet: Path, header: str, clip: str, value) -> int:
    """Set column `header` of the row whose Filename is `clip`; returns that Excel row number."""
    book = load_workbook(sheet)
    rows = list(book.active.iter_rows())
    header_row = next(r for r in rows if any(c.value == "Filename" for c in r))
    columns = {c.value: c.column - 1 for c in header_row if c.value}
    row = next(r for r in rows if r[columns["Filename"]].value == clip)
    row[columns[header]].value = value
    book.save(sheet)
    return row[0].row


def first_clip(root: Path, fmt: str = "casme2"):
    return next(parse(fmt, root).index.itertuples())


def problems_of(root: Path, fmt: str = "casme2", severity: str | None = None):
    report = check_dataset(fmt, root)
    return report, [p for p in report.problems if severity is None or p.severity == severity]


def test_an_intact_standin_is_usable_with_counts(originals):
    report = check_dataset("casme2", originals["casme2"])
    assert report.usable and report.standin and report.problems == []
    assert report.samples == 4 and sum(report.subjects.values()) == 4 and sum(report.classes.values()) == 4
    assert report.aus and all(k.isdigit() for k in report.aus)
    text = format_report(report)
    assert "per subject:" in text and "per class:" in text and "per AU:" in text and "usable" in text


def test_a_missing_apex_frame_is_an_error_naming_the_folder(casme2):
    clip = first_clip(casme2)
    (Path(clip.frame_dir) / f"img{clip.apex}.jpg").unlink()
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable
    assert [e.file for e in errors] == [clip.frame_dir]
    assert f"apex {clip.apex}" in errors[0].message and CASME2_SHEET in errors[0].message


def test_a_gap_between_onset_and_offset_is_a_warning(casme2):
    clip = first_clip(casme2)
    (Path(clip.frame_dir) / f"img{clip.onset + 1}.jpg").unlink()
    report, warnings = problems_of(casme2, severity="warning")
    assert report.usable
    assert any(w.file == clip.frame_dir and str(clip.onset + 1) in w.message for w in warnings)


def test_onset_after_apex_is_an_error_with_the_sheet_row(casme2):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "OnsetFrame", clip.clip, clip.apex + 1)
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and len(errors) == 1
    assert errors[0].file.endswith(CASME2_SHEET) and errors[0].row == row
    assert f"onset {clip.apex + 1} is after apex {clip.apex}" in errors[0].message


def test_apex_slash_is_a_warning_and_the_middle_frame_is_used(casme2):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "ApexFrame", clip.clip, "/")
    report, warnings = problems_of(casme2, severity="warning")
    assert report.usable
    assert [(w.row, "ApexFrame not annotated" in w.message) for w in warnings] == [(row, True)]
    estimated = parse("casme2", casme2).index.set_index("clip").loc[clip.clip]
    assert estimated["apex_estimated"] and estimated["apex"] == (clip.onset + clip.offset) // 2


def test_samm_apex_minus_one_is_a_warning(samm):
    clip = first_clip(samm, "samm")
    row = edit_cells(samm / SAMM_SHEET, "Apex Frame", clip.clip, -1)
    report, warnings = problems_of(samm, "samm", severity="warning")
    assert report.usable and [w.row for w in warnings] == [row]


def test_an_unknown_emotion_is_an_error_with_its_row(casme2):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "Estimated Emotion", clip.clip, "boredom")
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and [(e.row, "unknown emotion 'boredom'" in e.message) for e in errors] == [(row, True)]


def test_a_wrong_cell_type_is_an_error_with_its_row(casme2):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "OffsetFrame", clip.clip, "soon")
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and errors[0].row == row and "OffsetFrame must be a frame number" in errors[0].message


def test_a_subject_without_a_number_is_an_error_with_its_row(casme2):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "Subject", clip.clip, "anonymous")
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and [(e.row, "Subject must hold a subject number" in e.message) for e in errors] == [
        (row, True)]


def test_an_unreadable_image_is_an_error_naming_it(casme2):
    clip = first_clip(casme2)
    broken = Path(clip.frame_dir) / clip.frames[-1]
    broken.write_bytes(b"not a jpeg")
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and [(e.file, e.message) for e in errors] == [(str(broken), "unreadable image")]
    assert check_dataset("casme2", casme2, images="key").usable  # only onset/apex/offset decoded


def append_row(sheet: Path, values: list) -> int:
    book = load_workbook(sheet)
    book.active.append(values)
    book.save(sheet)
    return book.active.max_row


def sheet_row(sheet: Path, number: int) -> list:
    return [c.value for c in load_workbook(sheet).active[number]]


def test_an_exact_duplicate_row_is_a_warning(casme2):
    row = append_row(casme2 / CASME2_SHEET, sheet_row(casme2 / CASME2_SHEET, 2))
    report, warnings = problems_of(casme2, severity="warning")
    assert report.usable and report.samples == 4
    assert [(w.row, w.message) for w in warnings] == [(row, "duplicate of row 2, ignored")]


def test_a_conflicting_duplicate_row_is_an_error(casme2):
    values = sheet_row(casme2 / CASME2_SHEET, 2)
    values[-1] = "others" if values[-1] != "others" else "disgust"
    row = append_row(casme2 / CASME2_SHEET, values)
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and [e.row for e in errors] == [row]
    assert "same clip" in errors[0].message


def test_empty_folders(casme2):
    stray = casme2 / "CASME2_RAW_selected" / "sub01" / "EP99_99"
    stray.mkdir()
    report, warnings = problems_of(casme2, severity="warning")
    assert report.usable and [(w.file, w.message) for w in warnings] == [(str(stray), "empty folder, ignored")]
    clip = first_clip(casme2)
    for frame in Path(clip.frame_dir).iterdir():
        frame.unlink()
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and [(e.file, e.message) for e in errors] == [(clip.frame_dir,
                                                                          "clip folder holds no frames")]


def rename_header(sheet: Path, old: str, new: str | None) -> None:
    book = load_workbook(sheet)
    for row in book.active.iter_rows():
        for cell in row:
            if cell.value == old:
                cell.value = new
    book.save(sheet)


def test_a_missing_column_is_an_error_naming_it(casme2):
    rename_header(casme2 / CASME2_SHEET, "ApexFrame", None)
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and report.samples == 0
    assert "missing columns ['ApexFrame']" in errors[0].message and errors[0].row == 1


def test_an_extra_column_is_a_warning(casme2):
    book = load_workbook(casme2 / CASME2_SHEET)
    book.active.cell(row=1, column=10, value="Coder")
    book.save(casme2 / CASME2_SHEET)
    report, warnings = problems_of(casme2, severity="warning")
    assert report.usable and [w.message for w in warnings] == ["extra columns ignored: ['Coder']"]


def test_a_missing_sheet_is_an_error(casme2):
    (casme2 / CASME2_SHEET).unlink()
    report, errors = problems_of(casme2, severity="error")
    assert not report.usable and "no coding sheet found" in errors[0].message


def test_smic_unknown_emotion_folder_is_an_error(originals, tmp_path):
    smic = Path(shutil.copytree(originals["smic"], tmp_path / "smic"))
    label = next((smic / "HS").glob("s*/micro/*"))
    label.rename(label.with_name("happy"))
    report, errors = problems_of(smic, "smic", severity="error")
    assert not report.usable and errors[0].file == str(label.with_name("happy"))
    assert "unknown emotion folder 'happy'" in errors[0].message


# -- the command ------------------------------------------------------------------------------------------------------


def test_the_command_exits_0_for_a_usable_dataset_and_prints_json(originals, capsys):
    assert main(["data", "check", "casme2", "--root", str(originals["casme2"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["usable"] and report["samples"] == 4 and report["errors"] == 0
    assert set(report) >= {"subjects", "classes", "aus", "problems", "standin"}


def test_the_command_exits_1_and_lists_file_and_row_for_an_unusable_dataset(casme2, capsys):
    clip = first_clip(casme2)
    row = edit_cells(casme2 / CASME2_SHEET, "Estimated Emotion", clip.clip, "boredom")
    assert main(["data", "check", "casme2", "--root", str(casme2)]) == 1
    out = capsys.readouterr().out
    assert f"error: {casme2 / CASME2_SHEET}, row {row}: unknown emotion 'boredom'" in out
    assert "NOT usable: 1 errors" in out


def test_the_command_reports_a_missing_folder_as_a_user_error(tmp_path, capsys):
    assert main(["data", "check", "samm", "--root", str(tmp_path / "absent")]) == 2
    assert "dataset folder not found" in capsys.readouterr().err


def test_data_convert_delegates_to_the_converter(tmp_path):
    pytest.importorskip("rawdata.convert")
    import pickle

    src = tmp_path / "labels.pkl"
    src.write_bytes(pickle.dumps({"names": ["a", "b"], "labels": [3, 1]}))
    assert main(["data", "convert", str(src), str(tmp_path / "labels.json")]) == 0
    assert json.loads((tmp_path / "labels.json").read_text()) == {"names": ["a", "b"], "labels": [3, 1]}


def test_data_convert_says_so_when_the_converter_is_missing(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "rawdata.convert", None)
    assert main(["data", "convert", str(tmp_path / "a.pkl"), str(tmp_path / "a.json")]) == 2
    assert "rawdata/convert.py is missing" in capsys.readouterr().err
