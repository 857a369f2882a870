"""`affect report`: tables, stand-in marking, gaps, seeds, robustness, the self-contained HTML, the regression."""

import base64
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from processed_fixture import write_processed
from report_results import COMPOSITE_CLASSES, predictions, score, write_composite, write_result

from core import metrics as M
from core.config import PACKAGE_ROOT
from core.errors import AffectError
from core.provenance import git_commit
from experiments import registry
from experiments.baselines import refresh as baselines_refresh
from experiments.catalogue import SuiteCatalogue
from experiments.cli import main
from reports import evidence, plots, regression, tables
from reports.build import ReportOptions, build_report
from reports.document import Table
from reports.reported import NOT_ENTERED, load_reported, lookup
from reports.results import discover

REPORTED = Path(__file__).resolve().parents[1] / "reports" / "reported.csv"
HTNET_LBPTOP_UF1 = 0.5882  # reports/reported.csv, lbptop_svm on the composite


def _options(root: Path, **kw) -> ReportOptions:
    return ReportOptions(root=root, results_dir=root / "results", out_dir=root / "reports",
                         mlflow=kw.pop("mlflow", False), dvc=kw.pop("dvc", False), workers=1,
                         catalogue=SuiteCatalogue(), **kw)


def _table(experiments, task="mer") -> Table:
    chosen = [e for e in experiments if e.task == task and e.status == "complete"]
    return tables.evidence_table(task, chosen, load_reported(REPORTED), tables.Citations())


def _row(table: Table, method: str, dataset: str | None = None) -> dict:
    for row in table.rows:
        cells = dict(zip(table.columns, row))
        if cells["Method"].text == method and (dataset is None or cells["Dataset"].text == dataset):
            return {k: c.text for k, c in cells.items()}
    raise AssertionError(f"no row {method} {dataset} in {[r[0].text for r in table.rows]}")


def _cells(table: Table, method: str) -> dict:
    row = next(r for r in table.rows if r[0].text == method)
    return dict(zip(table.columns, row))


# ---------------------------------------------------------------- evidence at a glance: tables, stand-in marking, gaps


def test_standin_and_real_rows_are_marked_and_only_real_has_a_gap(tmp_path):
    results = tmp_path / "results"
    standin, _ = write_composite(results, "ststnet/composite", 0.7, standin=True)
    real, _ = write_composite(results, "lbptop_svm/composite", 0.5, standin=False, seed=3)
    table = _table(discover(results, []))

    fake, fake_cells = _row(table, "ststnet"), _cells(table, "ststnet")
    assert fake["Data"] == "stand-in (synthetic)" and fake_cells["UF1"].style == "standin"
    assert fake["UF1"] == f"{standin['uf1']:.4f}" and fake["Protocol"] == "LOSO"
    assert fake["UF1 reported"] == "0.7353" and fake_cells["UF1 reported"].ref  # the paper's number, cited ...
    assert fake["UF1 gap (real − reported)"] == "—"  # ... never compared with a stand-in

    measured, cells = _row(table, "lbptop_svm"), _cells(table, "lbptop_svm")
    assert measured["Data"] == "real" and cells["UF1"].style == "real"
    assert measured["UF1"] == f"{real['uf1']:.4f}" and measured["Acc"] == f"{real['accuracy']:.4f}"
    assert measured["UF1 gap (real − reported)"] == f"{real['uf1'] - HTNET_LBPTOP_UF1:+.4f}"
    assert "Acc reported" not in table.columns  # no paper reports accuracy here
    assert [r[0].text for r in table.rows] == ["lbptop_svm", "ststnet"]  # real rows first, stand-in rows apart
    assert "Capped" not in table.columns  # nothing capped: the column is left out


def test_only_real_data_columns_appear_when_they_are_filled(tmp_path):
    results = tmp_path / "results"
    write_composite(results, "ststnet/composite", 0.7, standin=True)
    table = _table(discover(results, []))
    assert not any("gap" in c for c in table.columns)  # no real data: no gap column
    assert {"Method", "Dataset", "Data", "Protocol", "Seeds", "UF1", "UAR", "Floor", "Evidence"} <= set(table.columns)


def test_composite_parts_score_the_pooled_predictions_and_other_methods_are_listed(tmp_path):
    results = tmp_path / "results"
    _, rows = write_composite(results, "lbptop_svm/composite", 0.6, standin=False)
    experiments = discover(results, [])
    reported, citations = load_reported(REPORTED), tables.Citations()
    parts = tables.composite_parts_table(experiments, reported, citations)
    samm = rows[rows["dataset"] == "samm"]
    row = next(dict(zip(parts.columns, (c.text for c in r))) for r in parts.rows if r[1].text == "composite: samm")
    assert row["UF1"] == f"{M.uf1(samm['y_true'], samm['y_pred'], 3):.4f}"
    assert row["UF1 reported"] == "0.3954"  # HTNet's SAMM column for LBP-TOP
    others = tables.reference_only_table(reported, {"composite"}, {"lbptop_svm"}, citations)
    htnet = next(dict(zip(others.columns, (c.text for c in r))) for r in others.rows
                 if r[0].text == "HTNet" and r[1].text == "composite")
    assert htnet["uf1"] == "0.8603" and not any(r[0].text == "lbptop_svm" for r in others.rows)


def test_unentered_numbers_cite_once_and_other_protocols_are_never_comparable(tmp_path):
    results = tmp_path / "results"
    table5 = predictions({"casme2": 30}, 5, 0.8)
    write_result(results, "ststnet/casme2", score(table5, list("abcde")), table=table5)
    write_result(results, "dere_grl/casme2", score(table5, list("abcde")), table=table5)
    table = _table(discover(results, []))
    assert table.columns.count("Reported") == 1  # no paper number for any row: one column, not one per metric
    assert _row(table, "ststnet")["Reported"] == NOT_ENTERED
    dere = _cells(table, "dere_grl")["Reported"]
    assert dere.text == NOT_ENTERED and dere.ref is not None  # the citation once, in References
    rows = load_reported(REPORTED)
    other = lookup(rows, "ststnet", "composite", "loso-5class", "uf1")
    assert not other.comparable and "not comparable" in other.text

    # a subject k-fold result on real data next to the paper's LOSO number: said so, and no gap
    write_composite(results, "lbptop_svm/composite", 0.6, standin=False, protocol="subject_kfold")
    table = _table(discover(results, []))
    row = _row(table, "lbptop_svm")
    assert row["Protocol"].startswith("subject k-fold")
    assert row["UF1 reported"].startswith("0.5882, reported under loso-3class: not comparable; this run: subject")
    assert "UF1 gap (real − reported)" not in row  # the only real row has no comparable number: no gap column


def test_movielens_is_a_standin_even_without_the_synthetic_flag(tmp_path):
    results = tmp_path / "results"
    rec = {"recall@10": 0.1, "recall@20": 0.2, "ndcg@10": 0.05, "ndcg@20": 0.07, "popularity_recall@20": 0.1}
    write_result(results, "mgcn/movielens", rec, standin=False, task="rec", protocol="")
    row = _row(_table(discover(results, []), task="rec"), "mgcn")
    assert row["Data"] == "stand-in (MovieLens-100k)" and row["R@20"] == "0.2000"
    assert row["Protocol"] == "split, full ranking"
    assert row["Evidence"].startswith("clear (2.00x")


def test_seeds_give_mean_and_std_and_other_profiles_stay_out(tmp_path):
    results = tmp_path / "results"
    values = []
    for seed in (0, 1, 2):
        metrics, _ = write_composite(results, "ststnet/composite", 0.5 + 0.1 * seed, seed=seed, seed_dir=seed > 0)
        values.append(metrics["uf1"])
    write_composite(results, "ststnet/composite", 0.95, seed=7, seed_dir=True, profile="quick")
    (experiment,) = discover(results, [])
    assert experiment.seeds == [0, 1, 2]
    assert any("seed 7 left out" in note for note in experiment.notes)
    row = _row(_table([experiment]), "ststnet")
    assert row["UF1"] == f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}" and row["Seeds"] == "3 (0, 1, 2)"


def test_floors_and_the_evidence_margin(tmp_path):
    results = tmp_path / "results"
    table5 = predictions({"casme2": 40}, 5, 1.0)
    truth = table5["y_true"].to_numpy()
    at_floor = table5.assign(y_pred=0)  # always one class: the majority (a tie goes to the first class)
    write_result(results, "ststnet/casme2", score(at_floor, list("abcde")), table=at_floor)
    good = score(table5, list("abcde"))
    write_result(results, "geograph/casme2", good, table=table5)
    old = {k: v for k, v in good.items() if not k.startswith("majority")}  # a run written before the floors
    write_result(results, "dere_grl/casme2", old, table=table5)
    table = _table(discover(results, []))
    floor = M.majority_class_floor(truth, list("abcde"))["majority_uf1"]
    assert _row(table, "ststnet")["Floor"] == f"majority-class UF1 {floor:.4f}"
    assert _row(table, "ststnet")["Evidence"].startswith("at floor")
    assert _row(table, "geograph")["Evidence"].startswith("clear")
    assert _row(table, "dere_grl")["Floor"] == _row(table, "geograph")["Floor"]  # from the confusion matrix

    judge = evidence.judge
    rule = evidence.RULES["mer"]
    assert judge(0.30, 0.20, rule) == evidence.BELOW_MARGIN and judge(0.36, 0.20, rule) == evidence.CLEAR
    assert judge(0.21, 0.20, rule) == evidence.AT_FLOOR and judge(0.10, 0.20, rule) == evidence.AT_FLOOR
    rec = evidence.RULES["rec"]
    assert judge(0.11, 0.10, rec) == evidence.BELOW_MARGIN and judge(0.12, 0.10, rec) == evidence.CLEAR
    assert judge(0.5, None, rule) == evidence.NO_FLOOR


def test_capped_runs_are_marked(tmp_path):
    results = tmp_path / "results"
    rec = {"recall@10": 0.1, "recall@20": 0.2, "ndcg@10": 0.05, "ndcg@20": 0.07, "capped": True}
    write_result(results, "mgcn/recsynth", rec, task="rec", protocol="")
    write_result(results, "vbpr/recsynth", {**rec, "capped": False}, task="rec", protocol="")
    table = _table(discover(results, []), task="rec")
    assert _row(table, "mgcn")["Capped"] == "capped" and _row(table, "vbpr")["Capped"] == "—"


def test_capped_fold_runs_are_marked_from_details_json(tmp_path):
    """The fold loop writes ``capped`` to details.json (null without a validation split); the column reads it."""
    results = tmp_path / "results"
    fold = {"uf1": 0.5, "uar": 0.5, "accuracy": 0.5, "n_folds": 2}
    write_result(results, "ststnet/casme2", {**fold, "capped": True, "capped_folds": ["1"]})
    write_result(results, "dere_grl/casme2", {**fold, "capped": False, "capped_folds": []})
    write_result(results, "geograph/casme2", {**fold, "capped": None, "capped_reason": "no validation split"})
    assert "capped" in json.loads((results / "ststnet" / "casme2" / "details.json").read_text())
    table = _table(discover(results, []))
    assert _row(table, "ststnet", "casme2")["Capped"] == "capped"
    assert _row(table, "dere_grl", "casme2")["Capped"] == _row(table, "geograph", "casme2")["Capped"] == "—"


def test_reported_csv_is_valid_and_bad_rows_name_the_row(tmp_path):
    rows = load_reported(REPORTED)
    assert all(r.citation for r in rows if r.value is not None)
    bad = tmp_path / "reported.csv"
    bad.write_text("method,dataset,protocol,metric,value,citation,note\nx,casme2,loso-5class,uf1,54.9,src,\n")
    with pytest.raises(AffectError, match="row 2.*outside"):
        load_reported(bad)
    bad.write_text("method,dataset,protocol,metric,value,citation,note\nx,casme2,loso-5class,uf1,0.5,,\n")
    with pytest.raises(AffectError, match="row 2.*citation"):
        load_reported(bad)


# ---------------------------------------------------------------- whole report, robustness


def _html_images_and_links(text: str) -> tuple[list[str], list[str]]:
    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.images, self.links = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "img":
                self.images.append(attrs.get("src", ""))
            for key in ("href", "src"):
                if key in attrs and tag != "img":
                    self.links.append(attrs[key])

    parser = Collect()
    parser.feed(text)
    return parser.images, parser.links


def test_negative_controls_never_appear_among_results_and_the_check_treats_them_like_any_run(project):
    results = project / "results"
    write_composite(results, "ststnet/composite", 0.7)
    control = {"negative_control": "permuted_labels"}
    write_composite(results, "lbptop_svm/composite", 0.34, run_extra=control)
    write_composite(results, "ststnet/composite", 0.3, seed=5, seed_dir=True, run_extra=control)
    experiments = discover(results, [])
    reference = next(e for e in experiments if e.name == "ststnet")
    assert reference.seeds == [0] and any("negative control 'permuted_labels'" in n for n in reference.notes)

    md = build_report(_options(project), configured=[]).markdown.read_text()
    glance = md[md.index("Evidence at a glance"):md.index("### Data")]
    assert "| ststnet | composite |" in glance and "lbptop_svm" not in glance
    controls = md[md.index("### Negative controls"):md.index("### Methods and faithfulness")]
    assert "| lbptop_svm/composite | permuted_labels |" in controls
    after = md[md.index("### Methods and faithfulness"):md.index("### Runs and provenance")]
    assert "lbptop_svm/composite" not in after  # no figures, parts or tables of a control anywhere else

    baselines = {"profile": "default", "experiments": {"lbptop_svm/composite": {
        "standin": True, "metrics": {"uf1": {"mean": 0.6, "std": 0.01, "low": 0.55, "high": 0.65, "n": 3}}}}}
    rows = regression.check(results, baselines)
    assert [r.status for r in rows if r.experiment == "lbptop_svm/composite"] == ["DROP"]


def _calibration(root: Path, chosen=None) -> None:
    runs = [{"knob": "amplitude_scale", "value": v, "seed": s, "size": 1.0, "fixed": {},
             "fast": {"all": {"uf1": u, "uar": u + 0.01, "accuracy": u}, "casme2": {"uf1": u + 0.05},
                      "samm": {"uf1": u - 0.05}, "smic": {"uf1": u}, "n_samples": 444, "n_subjects": 73}}
            for v, s, u in ((0.25, 0, 0.53), (0.45, 0, 0.589), (0.45, 1, 0.687), (1.0, 0, 0.663))]
    data = {"anchor": {"experiment": "lbptop_svm/composite", "uf1": 0.5882, "uar": 0.5785, "source": "HTNet"},
            "runs": runs, **({"chosen": chosen} if chosen is not None else {})}
    path = root / "benchmarks" / "results" / "calibration.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_data_section_shows_origins_calibration_at_the_chosen_value_and_caveats(project):
    results = project / "results"
    note = {"standin_note": "synthetic clips calibrated against one anchor"}
    write_composite(results, "ststnet/composite", 0.7, run_extra=note)
    write_composite(results, "lbptop_svm/composite", 0.5, standin=False)
    raw = project / "data" / "raw" / "casme2"
    raw.mkdir(parents=True)
    (raw / "SYNTHETIC.json").write_text(json.dumps({"generator": "affect synth", "version": 3, "seed": 11,
                                                    "parameters": {"subjects": 26, "clips": 255,
                                                                   "difficulty": {"amplitude_scale": 0.45}}}))
    _calibration(project)
    md = build_report(_options(project), configured=[]).markdown.read_text()
    data = md[md.index("### Data"):md.index("### Methods and faithfulness")]
    assert "| Micro-expression recognition | composite | stand-in (synthetic) | 1 | 72 | — |" in data
    assert "| Micro-expression recognition | composite | real | 1 | 72 | — |" in data
    assert "| casme2 | affect synth v3 | 11 | 26 subjects, 255 clips | amplitude_scale=0.45 |" in data
    assert "Chosen: amplitude_scale=0.45 (data/raw/casme2/SYNTHETIC.json)" in data
    rows = [line for line in data.splitlines() if line.startswith("| amplitude_scale=")]
    assert rows == ["| amplitude_scale=0.45 | 0 | 1.0 | 444 (73 subjects) | on | 0.5890 | 0.5990 | 0.6390 | 0.5390 | "
                    "0.5890 | — | +0.0008 |",
                    "| amplitude_scale=0.45 | 1 | 1.0 | 444 (73 subjects) | on | 0.6870 | 0.6970 | 0.7370 | 0.6370 | "
                    "0.6870 | — | +0.0988 |"]
    assert ("0.25, z-scoring on → 0.530; 0.45, z-scoring on → 0.638 ± 0.069 (n=2); 1, z-scoring on → 0.663"
            in data)
    assert "composite: synthetic clips calibrated against one anchor" in data  # the caveat, once per dataset

    _calibration(project, chosen={"knob": "amplitude_scale", "value": 1.0})  # chosen elsewhere than on disk
    md = build_report(_options(project), configured=[]).markdown.read_text()
    assert "Chosen: amplitude_scale=1.0 (calibration.json `chosen`)" in md
    assert "The stand-ins on disk were written with another value: casme2: amplitude_scale=0.45" in md


def test_methods_table_says_how_non_paper_defaults_were_chosen(project):
    results = project / "results"
    write_composite(results, "ststnet/composite", 0.7, run_extra={"faithfulness": "a note", "defaults_chosen":
                                                                            "fixed a priori: test"})
    write_composite(results, "geograph/composite", 0.7)
    md = build_report(_options(project), configured=[]).markdown.read_text()
    methods = md[md.index("### Methods and faithfulness"):]
    row = next(line for line in methods.splitlines() if line.startswith("| ststnet |"))
    assert row.endswith("| fixed a priori: test |")
    declared = registry.method("geograph").defaults_chosen or "not stated"
    assert next(line for line in methods.splitlines() if line.startswith("| geograph |")).endswith(
        f"| {declared} |")


def test_report_survives_missing_partial_and_broken_results_and_html_is_self_contained(project):
    results = project / "results"
    write_composite(results, "ststnet/composite", 0.7)
    broken = results / "geograph" / "casme2"
    broken.mkdir(parents=True)
    (broken / "metrics.json").write_text("{not json")
    folds = project / "checkpoints" / "dere_grl" / "casme2" / "folds"
    folds.mkdir(parents=True)
    (folds / "000.csv").write_text("sample_id\n")
    (results / "dere_grl" / "casme2").mkdir(parents=True)
    stale = project / "reports" / "figures" / "gone__casme2__confusion.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"old")

    summary = build_report(_options(project), configured=["ststnet/composite", "lbptop_svm/smic"])
    md = summary.markdown.read_text()
    assert "lbptop_svm/smic" in md and "Configured but not run" in md
    assert "dere_grl/casme2 (partial)" in md and "1 fold(s) finished" in md and "--resume" in md
    assert "geograph/casme2 (unreadable)" in md
    assert "Every measured number in this report comes from stand-in data" in md
    assert not stale.exists()
    for figure in summary.figures:
        assert f"figures/{figure.name}" in md and figure.is_file()

    html = summary.html.read_text()
    images, links = _html_images_and_links(html)
    assert len(images) == len(summary.figures) >= 3
    for src in images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert all(link.startswith("#") for link in links), links  # citations only: no external request
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert html.count("<table") >= 3 and 'class="standin"' in html


def test_figures_are_redrawn_only_when_their_inputs_change(project):
    results = project / "results"
    write_composite(results, "ststnet/composite", 0.7)
    first = build_report(_options(project), configured=[])
    confusion = next(p for p in first.figures if p.name.endswith("__confusion.png"))
    stamp = confusion.stat().st_mtime_ns
    build_report(_options(project), configured=[])
    assert confusion.stat().st_mtime_ns == stamp
    write_composite(results, "ststnet/composite", 0.4)  # new metrics.json: newer than the PNG
    build_report(_options(project), configured=[])
    assert confusion.stat().st_mtime_ns != stamp


def test_special_figures_directions_interpretation_attribution(project):
    results = project / "results"
    table5 = predictions({"casme2": 20}, 5, 0.6)
    for name, acc in (("lbptop_svm", 0.4), ("lbp_sdg", 0.7), ("lbp_sdg-vertical", 0.6)):
        write_result(results, f"{name}/casme2", score(predictions({"casme2": 20}, 5, acc), list("abcde")))
    interpretation = {"n_folds": 4, "summary": {
        "component_to_action": {"mean": [[0.2] * 5] * 6, "std": [[0.0] * 5] * 6},
        "relation_weights": {"mean": [[1 / 6] * 6] * 6, "std": [[0.0] * 6] * 6}}}
    write_result(results, "dere_grl/casme2", score(table5, list("abcde")), table=table5,
                 extra={"interpretation.json": interpretation})
    rec = {"recall@10": 0.1, "recall@20": 0.2, "ndcg@10": 0.05, "ndcg@20": 0.07}
    for name, share in (("mgcn", 0.3), ("befa-mgcn", 0.5)):
        attribution = {"modalities": {"image": {"names": ["Action", "Comedy", "Drama"], "importance": [0.5, 0.3, 0.2],
                                                "informative_share": share, "informative_chance": 0.33,
                                                "top10_share": 1.0, "completeness_gap": 0.01}}}
        folder = write_result(results, f"{name}/recsynth", rec, task="rec", extra={"attribution.json": attribution})
        plots.bar_figure(folder / "attribution.png", ["Action", "Comedy", "Drama"], [0.5, 0.3, 0.2], name, "share")

    chosen = {"n_folds": 4, "labels": {"direction_names": ["x+", "t+", "y+"]},
              "summary": {"chosen_direction": {"mean": [0.25, 0.75, 0.0], "std": [0.4, 0.4, 0.0]},
                          "inner_uf1": {"mean": [0.31, 0.44, 0.2], "std": [0.0, 0.0, 0.0]}}}
    write_result(results, "lbp_sdg/casme2", score(predictions({"casme2": 20}, 5, 0.8), list("abcde")),
                 extra={"interpretation.json": chosen})

    summary = build_report(_options(project), configured=[])
    names = {p.name for p in summary.figures}
    assert "lbp_sdg_directions__casme2.png" in names
    md = summary.markdown.read_text()
    assert "| casme2 | best single (inner validation) | lbp_sdg/casme2 |" in md
    # how often each distinct direction won a fold, most chosen first, with the inner UF1 that chose it
    rows = [line for line in md.splitlines() if line.startswith(("| t+ |", "| x+ |", "| y+ |"))]
    assert rows == ["| t+ | 3 (75%) | 0.4400 |", "| x+ | 1 (25%) | 0.3100 |", "| y+ | 0 (0%) | 0.2000 |"]
    assert "dere_grl__casme2__interpretation_component_to_action.png" in names
    assert {"attribution__befa-mgcn__recsynth.png", "attribution__informative_share__recsynth.png"} <= names
    assert "| casme2 | vertical | lbp_sdg-vertical/casme2 |" in md
    assert "| befa-mgcn/recsynth | stand-in (synthetic) | image | 1.000 | 0.500 | 0.330 | 0.010 | 0.2000 |" in md


def test_end_to_end_with_real_runs_a_second_seed_and_mlflow_curves(project):
    from experiments.runner import train
    from experiments.seeds import run_seed

    write_processed(project, subjects=2, clips=4)
    first = train("lbptop_svm/casme2", profile="quick")
    second = run_seed("lbptop_svm/casme2", 1, "quick", project / "results")
    assert second.folder == project / "results" / "lbptop_svm" / "casme2" / "seeds" / "1"
    assert second.seed == 1 and (second.folder / "predictions.csv").is_file()
    assert not list((project / "results").glob(".seed-run-*"))  # the scratch results root is gone

    summary = build_report(_options(project, mlflow=True), configured=["lbptop_svm/casme2"])
    names = {p.name for p in summary.figures}
    assert {"lbptop_svm__casme2__confusion.png", "lbptop_svm__casme2__curves.png",
            "lbptop_svm__casme2__per_subject.png"} <= names
    values = [first["uf1"], second.metrics["uf1"]]
    expected = f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f}"
    md = summary.markdown.read_text()
    assert f"| lbptop_svm | casme2 | stand-in (synthetic) | LOSO (2 folds) | 2 (0, 1) | {expected} |" in md
    assert "casme2: synthetic clips calibrated against one anchor" in md  # the stand-in caveat, via run.json


def test_cli_builds_the_report(project, capsys):
    write_composite(project / "results", "ststnet/composite", 0.7)
    assert main(["report", "--no-mlflow", "--no-dvc"]) == 0
    assert "comparison.html" in capsys.readouterr().out
    assert (project / "reports" / "comparison.md").is_file()


# ---------------------------------------------------------------- regression bands


def test_tolerance_band():
    band = regression.tolerance_band([0.50, 0.52, 0.54], k_sigma=3, min_tolerance=0.02)
    assert band.mean == pytest.approx(0.52) and band.std == pytest.approx(0.02)
    assert (band.low, band.high) == (pytest.approx(0.46), pytest.approx(0.58))
    flat = regression.tolerance_band([0.7, 0.7], k_sigma=3, min_tolerance=0.02)
    assert (flat.low, flat.high) == (pytest.approx(0.68), pytest.approx(0.72))
    assert regression.tolerance_band([0.99, 1.0]).high == 1.0
    wide = regression.tolerance_band([0.40, 0.50, 0.60], k_sigma=3, min_tolerance=0.02, max_tolerance=0.06)
    assert (wide.low, wide.high) == (pytest.approx(0.44), pytest.approx(0.56))  # capped at +-0.06


def _baselines(results: Path) -> dict:
    for seed, acc in ((0, 0.60), (1, 0.66), (2, 0.72)):
        write_composite(results, "ststnet/composite", acc, seed=seed, seed_dir=True, profile="quick")
        write_composite(results, "lbptop_svm/composite", acc, seed=seed, seed_dir=True, profile="quick")
    return baselines_refresh(results.parent, results, ["ststnet/composite", "lbptop_svm/composite"],
                              [0, 1, 2], "quick", reuse=True)


def test_refresh_computes_bands_from_seed_runs(tmp_path):
    results = tmp_path / "results"
    baselines = _baselines(results)
    entry = baselines["experiments"]["ststnet/composite"]
    values = [json.loads((results / "ststnet" / "composite" / "seeds" / str(s) / "metrics.json").read_text())["uf1"]
              for s in (0, 1, 2)]
    assert entry["metrics"]["uf1"]["values"] == values
    assert entry["metrics"]["uf1"]["mean"] == pytest.approx(sum(values) / 3)
    assert set(entry["metrics"]) == {"uf1", "uar"} and entry["standin"] is True and entry["seeds"] == [0, 1, 2]
    # the commit of the code that computed the bands, even when the results live in a project folder of their own
    # (tmp_path is no git checkout: the project's own commit would read "unknown")
    assert git_commit(tmp_path) == "unknown" and baselines["git_commit"] == git_commit(PACKAGE_ROOT)


def test_check_flags_drops_jumps_missing_and_other_profiles(tmp_path):
    results = tmp_path / "results"
    baselines = _baselines(results)
    band = baselines["experiments"]["ststnet/composite"]["metrics"]["uf1"]
    write_composite(results, "ststnet/composite", 0.66, seed=1, profile="quick")  # the middle seed: inside
    rows = regression.check(results, baselines)
    assert {r.status for r in rows if r.experiment == "ststnet/composite"} == {"ok"}
    assert {r.status for r in rows if r.experiment == "lbptop_svm/composite"} == {"MISSING"}
    assert regression.exit_code(rows) == 1 and regression.exit_code(rows, allow_missing=True) == 0

    write_composite(results, "ststnet/composite", 0.05, profile="quick")
    write_composite(results, "lbptop_svm/composite", 1.0, profile="quick")
    rows = {(r.experiment, r.metric): r for r in regression.check(results, baselines)}
    assert rows["ststnet/composite", "uf1"].status == "DROP"
    assert rows["ststnet/composite", "uf1"].value < band["low"]
    assert rows["lbptop_svm/composite", "uf1"].status == "JUMP"
    table = regression.format_table(list(rows.values()))
    assert "DROP" in table and "JUMP" in table and f"{band['low']:.4f}" in table

    write_composite(results, "ststnet/composite", 0.66, profile="default")
    rows = regression.check(results, baselines)
    assert {r.status for r in rows if r.experiment == "ststnet/composite"} == {"NOT COMPARABLE"}


def test_check_command_exit_codes(project, capsys):
    results = project / "results"
    path = project / "reports" / "baselines.json"
    path.parent.mkdir()
    path.write_text(json.dumps(_baselines(results)))
    write_composite(results, "ststnet/composite", 0.66, seed=1, profile="quick")
    write_composite(results, "lbptop_svm/composite", 0.66, seed=1, profile="quick")
    assert main(["report", "--check-regression"]) == 0
    write_composite(results, "lbptop_svm/composite", 0.05, profile="quick")
    assert main(["report", "--check-regression"]) == 1
    out = capsys.readouterr().out
    assert "DROP" in out and "FAILED" in out
    path.write_text(json.dumps({"experiments": {}}))
    assert main(["report", "--check-regression"]) == 2  # no baselines yet: a clear error, not a silent pass


def test_committed_baselines_are_computed_not_typed():
    data = json.loads((REPORTED.parent / "baselines.json").read_text())
    assert data["profile"] == "quick"
    for exp_id, entry in data["experiments"].items():
        for band in entry["metrics"].values():
            again = regression.tolerance_band(band["values"], data["k_sigma"], data["min_tolerance"],
                                              data.get("max_tolerance", 1.0))
            assert band["high"] - band["low"] <= 2 * data.get("max_tolerance", regression.MAX_TOLERANCE) + 1e-9
            assert (band["low"], band["high"]) == (pytest.approx(again.low), pytest.approx(again.high)), exp_id


def test_composite_classes_fixture_matches_the_dataset_defaults():
    import yaml

    from experiments.config import DEFAULTS_DIR

    defaults = yaml.safe_load((DEFAULTS_DIR / "datasets" / "composite.yaml").read_text())
    assert defaults["data"]["classes"] == COMPOSITE_CLASSES


# ---------------------------------------------------------------- faithfulness notes, dvc metrics diff


def test_faithfulness_note_is_declared_or_read_from_docstrings(tmp_path):
    from lightning_modules.spec import docstring_note

    method = tmp_path / "toy"
    method.mkdir()
    (method / "network.py").write_text('"""Toy net.\n\nFaithful to the abstract: two streams.\n\n'
                                       'Choices made here: the width.\n"""\n')
    note = docstring_note(method)
    assert note.startswith("Faithful to the abstract: two streams.")
    assert "lightning_modules/toy/network.py" in note
    assert "not declared" in docstring_note(tmp_path)
    catalogue = SuiteCatalogue()
    assert catalogue.method_note("ststnet").paper and catalogue.method_note("no_such_method") is None
    note, declared = registry.method("ststnet").faithfulness_note()
    assert note and declared


def test_dvc_metrics_diff_is_skipped_with_a_reason_outside_a_dvc_project(tmp_path):
    from reports.dvc_metrics import metrics_diff

    diff = metrics_diff(tmp_path)
    assert diff.text is None and diff.note.startswith("skipped")


@pytest.mark.slow
def test_dvc_metrics_diff_shows_a_changed_metric(tmp_path):
    import subprocess
    import sys

    from reports.dvc_metrics import metrics_diff

    dvc = str(Path(sys.executable).with_name("dvc"))

    def run(*command):
        subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=120)

    run("git", "init", "-q")
    run(dvc, "init", "-q")
    (tmp_path / "dvc.yaml").write_text("stages:\n  train:\n    cmd: 'true'\n    metrics:\n"
                                       "      - metrics.json:\n          cache: false\n")
    (tmp_path / "metrics.json").write_text('{"uf1": 0.5}')
    run("git", "add", "-A")
    run("git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline")
    (tmp_path / "metrics.json").write_text('{"uf1": 0.75}')
    diff = metrics_diff(tmp_path)
    assert diff.text and "uf1" in diff.text and "0.75" in diff.text, diff.note


def test_compute_section_reads_the_benchmark_methods(tmp_path):
    from reports.build import compute_section
    from reports.document import Table

    assert "No compute benchmark" in compute_section(tmp_path)[1].text
    (tmp_path / "graph_methods.json").write_text(json.dumps({"threads": 1, "methods": {
        "ststnet": {"parameters": 2485, "flops_per_sample": 681376, "cpu_ms_per_sample_batch1": 0.74,
                    "cpu_ms_per_sample_batch32": 0.18, "input": [3, 28, 28]},
        "geograph": {"parameters": 14877, "flops_per_sample": 9598400, "input": [8, 68, 2]}}}))
    (tmp_path / "synth.json").write_text(json.dumps({"figures": {}}))
    # a benchmark that records its machine as a platform string and its methods without compute figures
    (tmp_path / "sma_stn.json").write_text(json.dumps({"machine": "Linux-x86_64", "methods": {"sma_stn": {"uf1": .3}}}))
    table = next(b for b in compute_section(tmp_path) if isinstance(b, Table))
    assert [r[0].text for r in table.rows] == ["ststnet", "geograph"]
    assert table.rows[0][1].text == "2,485" and table.rows[1][2].text == "9.60" and table.rows[1][3].text == "?"


def test_data_section_shows_the_seed_calibration_and_warns_when_the_standin_differs(project):
    write_composite(project / "results", "ststnet/composite", 0.7)
    raw = project / "data" / "raw" / "seed"
    raw.mkdir(parents=True)
    marker = {"generator": "affect synth seed", "version": 3, "seed": 0, "dataset": "seed",
              "parameters": {"subjects": 15, "pattern_scale": 0.14}}
    (raw / "SYNTHETIC.json").write_text(json.dumps(marker))
    md = build_report(_options(project), configured=[]).markdown.read_text()
    assert "SEED stand-in calibration: eeg_calibration.json missing" in md  # a SEED stand-in, no calibration file
    assert "| seed | affect synth seed v3 | 0 | 15 subjects | pattern_scale=0.14 |" in md
    path = project / "benchmarks" / "results" / "eeg_calibration.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "anchor": {"experiment": "dgcnn/seed", "protocol": "subject_dependent", "metric": "subject_accuracy_mean",
                   "value": 0.904, "source": "DGCNN abstract"},
        "knob": "pattern_scale", "default": 0.12, "draws": [100, 101, 102],
        "summary": {"0.12": {"mean": 0.8484, "min": 0.8317, "max": 0.8717, "n": 3},
                    "0.14": {"mean": 0.9242, "min": 0.909, "max": 0.9409, "n": 3}},
        "chosen": {"value": 0.14, "why": "closest mean to the anchor"}}))
    md = build_report(_options(project), configured=[]).markdown.read_text()
    section = md[md.index("### SEED stand-in calibration"):]
    assert "Chosen: pattern_scale=0.14 (closest mean to the anchor)." in section
    assert "| pattern_scale=0.12 | 3 | 0.8484 | 0.8317-0.8717 | -0.0556 |" in section
    assert "| pattern_scale=0.14 (chosen) | 3 | 0.9242 | 0.9090-0.9409 | +0.0202 |" in section
    assert "written with another value" not in section
    (raw / "SYNTHETIC.json").write_text(json.dumps({**marker, "parameters": {"subjects": 15, "pattern_scale": 0.12}}))
    md = build_report(_options(project), configured=[]).markdown.read_text()
    assert "The SEED stand-in on disk was written with another value: seed: pattern_scale=0.12" in md


def test_eeg_experiments_get_their_own_evidence_table_with_the_subject_mean_and_its_reported_number(project):
    """EEG rows once fell back to the micro-expression table: a second "Micro-expression recognition" heading, UF1 /
    UAR columns, and "not yet entered" beside DGCNN although its subject-mean accuracy is in reported.csv."""
    metrics = {"subject_accuracy_mean": 0.91, "subject_accuracy_std": 0.04, "subject_f1_mean": 0.9,
               "subject_f1_std": 0.04, "accuracy": 0.912, "uf1": 0.911, "majority_accuracy": 0.34, "n_folds": 45}
    write_result(project / "results", "dgcnn/seed", metrics, task="eeg", protocol="subject_dependent")
    table = _table(discover(project / "results", []), task="eeg")
    row = _row(table, "dgcnn", "seed")
    assert row["Acc (mean over subjects)"] == "0.9100" and row["Acc (pooled)"] == "0.9120"
    assert row["Acc (mean over subjects) reported"] == "0.9040"  # reports/reported.csv, the DGCNN abstract
    assert "UF1" not in table.columns and "UAR" not in table.columns
    md = build_report(_options(project), configured=[]).markdown.read_text()
    glance = md[md.index("Evidence at a glance"):md.index("### Data")]
    assert "#### EEG emotion recognition and depression detection" in glance
    assert "#### Micro-expression recognition" not in glance  # no MER experiment here: no MER heading
    assert tables.task_table("speech").title == "Task speech"  # an unknown task keeps its own name
