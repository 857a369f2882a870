"""Every dataset the suite knows, declared once.

One :class:`Dataset` per dataset key names its parser (``rawdata/layouts/<format>.py``), its generator twin
(``affect synth <synth>``, or None), the stand-in's default size, whether its clips go through the image stages
(faces -> landmarks -> magnify -> flow -> features) and whether experiments can name it (a defaults YAML at
``experiments/_defaults/datasets/<name>.yaml``). Everything that lists datasets reads this table:

- ``affect synth`` (the kinds it offers, the generator of each, the default ``--subjects``);
- ``affect data check`` and the preprocessing ``index`` stage (the parser of each format, :data:`FORMATS`);
- ``affect list`` and the experiment configs (the datasets with defaults, experiments/registry.py);
- the tests that hold params.yaml and dvc.yaml to it (every ``standins.*.kind``, ``datasets.*.format`` declared;
  image stages only for datasets that have them).

Adding a dataset: its format module under rawdata/layouts/ (unless it reuses one), one line below, and its
defaults YAML (docs/architecture.md, "Add a dataset").
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from core.config import load_yaml
from core.errors import ConfigError

# the cross-database (CDMER) benchmark's tasks: one experiment dataset `<source>_to_<target>` each (below)
CDMER_TASKS_FILE = Path(__file__).parent / "layouts" / "cdmer_tasks.yaml"


def cdmer_task_pairs(path: Path = CDMER_TASKS_FILE) -> list[tuple[str, str]]:
    """(source, target) of every task in the benchmark's list, in file order (the list's checks and its citation:
    datamodules/cross_database.py)."""
    return [(str(t["source"]), str(t["target"])) for t in load_yaml(path)["tasks"]]


@dataclass(frozen=True)
class Dataset:
    """One dataset: where its parser, generator twin and defaults are.

    name: the dataset key (params.yaml ``datasets.<name>``, ``experiments/<method>/<name>.yaml``);
    format: the layout its folder is in: ``rawdata/layouts/<format>.py`` parses it;
    task: what it is labelled for (mer, au, masked, gesture, rec, eeg; informative, for ``affect list``);
    synth: the ``affect synth`` kind that writes its stand-in (None: no stand-in);
    generator: ``"module:function"`` of that writer; it takes ``(out, subjects=None, seed=0, **options)`` and, when
        it has a ``dataset`` parameter, the kind it is asked for;
    standin_subjects: the stand-in's default number of subjects (users for recommendation);
    image_stages: its clips go through the face-image preprocessing stages;
    defaults: experiments can name it (it has ``experiments/_defaults/datasets/<name>.yaml``);
    standin_note: what results on its stand-in can and cannot show (the runner copies it into run.json of a run on
        the stand-in; the report prints it in its data section);
    base: a shared defaults layer (``experiments/_defaults/<base>.yaml``) loaded before the dataset's own defaults
        (the CDMER tasks share their classes, label maps and protocol there);
    variant: which variant of its stand-in kind it is (``affect synth smic --variant vis``): several datasets may share
        one kind (the SMIC channels); the first one declared for a kind is the kind's default (no ``--variant``).
    """

    name: str
    format: str
    task: str
    synth: str | None = None
    generator: str | None = None
    standin_subjects: int | None = None
    image_stages: bool = False
    defaults: bool = True
    standin_note: str = ""
    variant: str = ""
    base: str = ""


_MICRO = "rawdata.synth.micro:generate_standin"
_MICRO_NOTE = ("synthetic clips calibrated against one anchor (LBP-TOP + linear SVM on the MEGC2019 composite, "
               "benchmarks/calibrate.py); every other method's number on them is a measurement, not a comparison "
               "with its paper")

_CDMER_NOTE = ("synthetic clips of the generator calibrated on the MEGC2019 composite (benchmarks/calibrate.py); this "
               "channel's look (frame rate, sensor, face size, class priors) is a documented choice, not calibrated "
               "against a reported cross-database number")

# EEG cross-dataset tasks (source, target): one experiment dataset `<source>_to_<target>` each
EEG_CROSS_PAIRS = (("seed", "seed_iv"), ("seed_iv", "seed"))
_EEG_CROSS_NOTE = ("the SEED and SEED-IV stand-ins; their class patterns overlap by construction only when both are "
                   "written with the same generator seed (rawdata/synth/eeg.py generate_seed_iv), so cross-dataset "
                   "transfer on them is a property of the generator, not of SEED / SEED-IV")

DATASETS: dict[str, Dataset] = {d.name: d for d in (
    Dataset("casme2", "casme2", "mer", "casme2", _MICRO, 26, image_stages=True, standin_note=_MICRO_NOTE),
    Dataset("samm", "samm", "mer", "samm", _MICRO, 32, image_stages=True, standin_note=_MICRO_NOTE),
    Dataset("smic", "smic", "mer", "smic", _MICRO, 16, image_stages=True, standin_note=_MICRO_NOTE, variant="hs"),
    # SMIC's two 25 fps channels (rawdata/layouts/smic.py): the cross-database (CDMER) benchmark's targets and sources
    Dataset("smic_vis", "smic_vis", "mer", "smic", _MICRO, 8, image_stages=True, standin_note=_CDMER_NOTE,
            variant="vis"),
    Dataset("smic_nir", "smic_nir", "mer", "smic", _MICRO, 8, image_stages=True, standin_note=_CDMER_NOTE,
            variant="nir"),
    Dataset("casme3", "casme3", "mer", "casme3", _MICRO, 14, image_stages=True, standin_note=_MICRO_NOTE),
    Dataset("mmew", "mmew", "mer", "mmew", _MICRO, 14, image_stages=True, standin_note=_MICRO_NOTE, defaults=False),
    # MEGC2019: CASME II + SAMM + SMIC through composite_samples.csv
    Dataset("composite", "composite", "mer", standin_note=_MICRO_NOTE),
    # CASME II + SAMM + CAS(ME)^3 for micro-AU detection
    Dataset("au_composite", "composite", "au", standin_note=_MICRO_NOTE),
    # MEGC2018: CASME II + SAMM with Davison et al.'s objective classes (data.label_from: objective_class; RRRN)
    Dataset("megc2018", "composite", "mer", standin_note=_MICRO_NOTE),
    Dataset("masked", "masked", "masked", "masked", "rawdata.synth.masked:generate_masked", 12, image_stages=True,
            standin_note="the stand-in builds in the paper's claim: the onset leaks the true emotion by "
            "construction; results on it are not support for the paper"),
    Dataset("microgesture", "imigue", "gesture", "microgesture", "rawdata.synth.microgesture:generate_microgesture",
            24, standin_note="synthetic skeletons; the fine-grained class texts were written from the generator's "
            "own motion programs, so text-aided results on it measure the pipeline, not the paper's claim"),
    Dataset("imigue", "imigue", "gesture"),
    Dataset("smg", "smg", "gesture"),
    Dataset("recsynth", "mmrec", "rec", "rec", "rawdata.synth.rec:generate_rec", 3000,
            standin_note="synthetic interactions from latent factors with content features planted on known "
            "dimensions; numbers on it are measurements, not comparisons with the papers' Amazon results"),
    Dataset("movielens", "mmrec", "rec"),  # converted from recbole's copy by rawdata/movielens.py
    # EEG emotion (issue 20): parser, stand-in, DataModule datamodules/eeg.py and the methods' experiments
    Dataset("seed", "seed", "eeg", "seed", "rawdata.synth.eeg:generate_seed", 15,
            standin_note="simple synthetic DE features (emotion pattern with shared and subject-specific parts, "
            "trial nuisance, drift, subject gain, a session shift) without a head model; its one effect-size knob "
            "calibrated against one reported number (DGCNN's subject-dependent accuracy, "
            "benchmarks/eeg_calibration.py), every other number on it a measurement: it shows protocol gaps and "
            "leaks, not a method's SEED accuracy"),
    Dataset("seed_iv", "seed_iv", "eeg", "seed_iv", "rawdata.synth.eeg:generate_seed_iv", 15,
            standin_note="simple synthetic DE features like the SEED stand-in (4 classes, 24 trials per session, "
            "neutral shared with the SEED stand-in's patterns); numbers on it show protocol gaps and leaks, not a "
            "method's SEED-IV accuracy"),
    Dataset("deap", "deap", "eeg", "deap", "rawdata.synth.eeg:generate_deap", 32,
            standin_note="noise plus rating-dependent alpha / beta sines on 4-s trials (the release: 63 s), GSR, "
            "respiration, pulse and temperature following the ratings (MFMC's multimodal input); it exercises the "
            "parser and pipeline, numbers on it say nothing about DEAP"),
    Dataset("mped", "mped", "eeg", "mped", "rawdata.synth.eeg:generate_mped", 23,
            standin_note="simple synthetic band features like the SEED stand-in's (resting + 7 emotions, 30 trials, "
            "STFT and PSD folders of the release's EEG_feature layout); numbers on it exercise the parser, protocol "
            "and pipeline, not a method's MPED accuracy"),
    # EEG depression detection (HGNN, issue 20): rawdata/layouts/modma.py, subject-level labels (MDD / HC)
    Dataset("modma", "modma", "eeg", "modma", "rawdata.synth.modma:generate_modma", 24,
            standin_note="synthetic resting-state signals (250 Hz, 129 rows) with a shared F3-P4 and a "
            "patient-specific theta source in patients (strong enough, since version 2, to show in band power as "
            "well as in coupling) and label-free couplings in everyone; numbers on it exercise the parser, the "
            "subject-level protocol and the method, not a method's MODMA accuracy"),
    # EEG cross-dataset tasks (SEED <-> SEED-IV on shared classes, protocol cross_dataset of
    # datamodules/eeg_protocols.py): both datasets' folders, checked together by rawdata/layouts/eeg_cross.py
    *(Dataset(f"{source}_to_{target}", "eeg_cross", "eeg", standin_note=_EEG_CROSS_NOTE)
      for source, target in EEG_CROSS_PAIRS),
    # the CDMER benchmark's tasks (train on the source, recognise the unlabelled target): rawdata/layouts/cdmer.py
    *(Dataset(f"{source}_to_{target}", "cdmer", "cdmer", standin_note=_CDMER_NOTE, base="cdmer")
      for source, target in cdmer_task_pairs()),
)}

# format name -> parser module (every module exposes ``parse(root) -> ParseResult``)
FORMATS: dict[str, str] = {d.format: f"rawdata.layouts.{d.format}" for d in DATASETS.values()}
# `affect synth` kind -> {variant: dataset}, in declaration order (the first is the kind's default)
def _by_kind() -> dict[str, dict[str, Dataset]]:
    kinds: dict[str, dict[str, Dataset]] = {}
    for d in DATASETS.values():
        if d.synth:
            kinds.setdefault(d.synth, {})[d.variant] = d
    return kinds


VARIANTS: dict[str, dict[str, Dataset]] = _by_kind()
# `affect synth` kind -> its (default) dataset
STANDINS: dict[str, Dataset] = {kind: next(iter(variants.values())) for kind, variants in VARIANTS.items()}


def dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise ConfigError(f"unknown dataset {name!r}", hint=_closest(name, DATASETS))
    return DATASETS[name]


def standin(kind: str) -> Dataset:
    """The dataset whose stand-in ``affect synth <kind>`` writes."""
    if kind not in STANDINS:
        raise ConfigError(f"unknown stand-in kind {kind!r}", hint=f"known kinds: {', '.join(sorted(STANDINS))}")
    return STANDINS[kind]


def standin_variant(kind: str, variant: str | None = None) -> Dataset:
    """The dataset whose stand-in ``affect synth <kind> --variant <variant>`` writes (None: the kind's default)."""
    default = standin(kind)
    if variant is None or variant == default.variant:
        return default
    variants = VARIANTS[kind]
    if variant not in variants:
        known = [v for v in variants if v]
        raise ConfigError(f"stand-in kind {kind!r} has no variant {variant!r}",
                          hint=f"its variants: {', '.join(known)}" if known else f"{kind} has no variants")
    return variants[variant]


def _closest(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=3)
    return f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(known))}"
