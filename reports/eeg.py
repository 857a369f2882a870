"""The EEG emotion section: accuracy and macro-F1 as mean +- std over subjects, per protocol, reported values beside.

Reads only results/ files: per ``eeg`` run, metrics.json / details.json as the `eeg` task writes them
(experiments/tasks/eeg.py: ``subject_accuracy_mean`` / ``_std``, ``subject_f1_mean`` / ``_std``, the majority
floor, ``n_subjects``, ``n_folds``) and run.json (protocol, max_epochs, stand-in or real). One row per experiment,
grouped by protocol (subject-dependent, LOSO, cross-session); with several seed runs the row shows the mean over
seeds of each run's subject mean and std. The reported value of the same (experiment, dataset, protocol,
``subject_accuracy_mean``) from reports/reported.csv sits beside the measurement, "not yet entered" when its row
is a placeholder. Results on a stand-in are labelled as such: they measure the pipeline on synthetic data, never
a method's SEED or MPED accuracy.
"""

from __future__ import annotations

from reports.document import Cell, Heading, Paragraph, Table
from reports.reported import NOT_ENTERED, Reported, lookup
from reports.results import Experiment

PROTOCOL_NAMES = {"subject_dependent": "subject-dependent (first trials of each session train: SEED 9 / 6, SEED-IV "
                                       "16 / 8; MPED the release's 21 / 7 lists)",
                  "trial_kfold": "subject-dependent, 10-fold over whole trials (DEAP)",
                  "loso": "leave one subject out", "cross_session": "cross-session (leave one session out)",
                  "cross_dataset": "cross-dataset (train on one dataset, test on the other, shared classes; "
                                   "mean ± std over target subjects)"}
DASH = "—"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _pm(mean: float | None, std: float | None) -> str:
    if mean is None:
        return DASH
    return f"{100 * mean:.1f} ± {100 * std:.1f}" if std is not None else f"{100 * mean:.1f}"


def reported_value(reported: list[Reported], experiment: Experiment, metric: str) -> str:
    """The reported number for this experiment in percent ("not comparable" under another protocol), else the
    placeholder text "not yet entered" (reports/reported.py's lookup)."""
    found = lookup(reported, experiment.name, experiment.dataset, experiment.protocol, metric)
    if found.value is None:
        return NOT_ENTERED
    return f"{100 * found.value:.2f}" + ("" if found.comparable else " (other protocol: not comparable)")


def eeg_rows(experiments: list[Experiment], reported: list[Reported]) -> list[list[Cell]]:
    rows = []
    order = list(PROTOCOL_NAMES)
    runs = sorted(experiments, key=lambda e: (order.index(e.protocol) if e.protocol in order else len(order),
                                              e.dataset, e.name))
    for e in runs:
        style = "standin" if e.standin else "real"
        acc = _pm(_mean(e.values("subject_accuracy_mean")), _mean(e.values("subject_accuracy_std")))
        f1 = _pm(_mean(e.values("subject_f1_mean")), _mean(e.values("subject_f1_std")))
        floor = _mean(e.values("majority_accuracy"))
        epochs = e.reference.run.get("max_epochs", "") if e.reference is not None else ""
        rows.append([Cell(PROTOCOL_NAMES.get(e.protocol, e.protocol)), Cell(e.exp_id),
                     Cell("stand-in" if e.standin else "real", style=style), Cell(acc, style=style),
                     Cell(f1, style=style), Cell(_pm(floor, None), style="muted"),
                     Cell(str(epochs) if epochs != "" else DASH),
                     Cell(reported_value(reported, e, "subject_accuracy_mean"))])
    return rows


def eeg_section(experiments: list[Experiment], reported: list[Reported]) -> list:
    runs = [e for e in experiments if e.task == "eeg" and e.status == "complete"]
    if not runs:
        return []
    datasets = sorted({e.dataset for e in runs})
    blocks = [Heading(f"EEG emotion recognition ({', '.join(d.upper().replace('_', '-') for d in datasets)})"),
              Paragraph("Accuracy and macro-F1 in percent, mean ± std over subjects (each subject's folds averaged "
                        "first: its sessions in the subject-dependent protocol (SEED 3, MPED 1), its held-out fold "
                        "in LOSO), as the EEG literature reports them; the majority-class floor of the pooled test "
                        "windows beside. Every fold keeps whole trials on one side (datamodules/eeg_protocols.py). "
                        "Epoch budgets are fixed a priori (no validation split), so every run stops at its max "
                        "epochs.")]
    if any(e.standin for e in runs):
        blocks.append(Paragraph("Rows marked stand-in ran on a synthetic stand-in (`affect synth seed|seed_iv|deap|"
                                "mped`): they show the pipeline and the protocol gaps on synthetic data, NOT a "
                                "method's accuracy on the dataset, and are not comparable with the reported column.",
                                style="warn"))
    blocks.append(Table(["Protocol", "Experiment", "Data", "Accuracy % (subjects)", "Macro-F1 % (subjects)",
                         "Majority %", "Epochs", "Reported accuracy %"], eeg_rows(runs, reported),
                        caption="EEG: measured (mean ± std over subjects) and reported"))
    return blocks
