"""The floor plan (docs/architecture.md, "Layers"): the import contracts hold, a back arrow breaks them, no cycles,
every dataset is declared once (rawdata/datasets.py) in agreement with params.yaml and the config defaults, and
every key of a method's `model` block reaches its network or its module (lightning_modules/layers/config.py)."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest
from importlinter import configuration
from importlinter.application import use_cases
from omegaconf import OmegaConf

from core.config import load_yaml
from experiments import registry
from lightning_modules.layers.config import ModelBlock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import imports as floor_plan  # noqa: E402  (benchmarks/imports.py)


def test_import_contracts_hold():
    """What `make test` runs before pytest: `lint-imports` with the contracts of pyproject.toml."""
    done = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-logo", "--no-cache"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "broken" in done.stdout and "0 broken" in done.stdout


@pytest.mark.parametrize(("importer", "imported", "contracts"), [
    # the leaf reaching up to the orchestrator (the report, which reads the leaf, would then reach it too)
    ("core.errors", "experiments.registry", {"layers", "reports-leaf-only"}),
    ("rawdata.index", "datamodules.micro_expression", {"layers"}),  # a parser reaching into a DataModule
    ("reports.results", "core.metrics", set()),  # allowed: the report reads the leaf
    ("reports.results", "lightning_modules.spec", {"reports-leaf-only"}),  # the report importing a method
    ("experiments.tasks.folds", "reports.figures", {"training-never-draws"}),  # the runner drawing
    ("lightning_modules.spec", "experiments.registry", {"layers"}),  # a method knowing the orchestrator
])
def test_a_back_arrow_breaks_its_contract(importer, imported, contracts):
    """Negative control: the same contracts on the real import graph plus one added import."""
    configuration.configure()
    options = use_cases.read_user_options(str(REPO / "pyproject.toml"))
    use_cases._register_contract_types(options)
    graph = grimp.build_graph(*options.session_options["root_packages"], cache_dir=None)
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="(added by the test)")
    report = use_cases._build_report(graph, 0, options, (), show_timings=False, verbose=False)
    ids = {o["name"]: o["id"] for o in options.contracts_options}
    broken = {ids[c.name] for c, check in report.get_contracts_and_checks() if not check.kept}
    assert broken == contracts


def test_no_back_arrows_or_cycles_in_the_floor_plan():
    """benchmarks/imports.py (ast, module level and function-local): 0 back arrows, 0 package or module cycles."""
    plan = floor_plan.measure()
    assert plan["back_arrows"] == {}, plan["back_arrow_sites"]
    assert plan["package_cycles"] == [] and plan["module_cycles"] == []


# ---------------------------------------------------------------- the dataset declarations


def test_every_dataset_is_declared_once_and_its_parts_exist():
    from experiments import registry
    from rawdata.datasets import DATASETS, FORMATS, STANDINS

    defaults = {p.stem for p in (registry.DEFAULTS_DIR / "datasets").glob("*.yaml")}
    assert defaults == {name for name, d in DATASETS.items() if d.defaults} == set(registry.datasets())
    for fmt, module in FORMATS.items():
        assert callable(importlib.import_module(module).parse), fmt
    for kind, dataset in STANDINS.items():
        module, function = dataset.generator.split(":")
        assert callable(getattr(importlib.import_module(module), function)), kind
        assert dataset.standin_subjects and dataset.standin_subjects > 0, kind


def test_standin_sizes_are_the_generators_defaults():
    from rawdata.datasets import STANDINS
    from rawdata.synth.eeg import DEFAULT_SUBJECTS as EEG_SUBJECTS
    from rawdata.synth.eeg import MPED_SUBJECTS
    from rawdata.synth.masked import DEFAULT_SUBJECTS
    from rawdata.synth.micro import SPECS
    from rawdata.synth.microgesture import SynthParams
    from rawdata.synth.modma import MODMA_SUBJECTS
    from rawdata.synth.rec import RecSynthParams

    sizes = {kind: SPECS[kind].subjects for kind in SPECS}
    sizes.update(seed=EEG_SUBJECTS, masked=DEFAULT_SUBJECTS, microgesture=SynthParams.subjects,
                 rec=RecSynthParams.users)
    sizes.update(seed_iv=EEG_SUBJECTS, deap=32, mped=MPED_SUBJECTS, modma=MODMA_SUBJECTS)
    assert {kind: d.standin_subjects for kind, d in STANDINS.items()} == sizes


def test_params_and_pipeline_name_declared_datasets_only():
    """params.yaml's stand-ins and image datasets, and every commented example, use declared kinds and formats."""
    from rawdata.datasets import DATASETS, STANDINS

    text = (REPO / "params.yaml").read_text()
    standins = re.findall(r"^\s*#?\s*(\w+): \{kind: (\w+)", text, re.M)
    image_sets = re.findall(r"^\s*#?\s*(\w+): \{format: (\w+)", text, re.M)
    assert len(standins) >= 7 and len(image_sets) >= 5
    for key, kind in standins:
        assert kind in STANDINS and STANDINS[kind].name == key, f"stand-in {key}: kind {kind}"
    for key, fmt in image_sets:
        assert key in DATASETS and DATASETS[key].image_stages, f"{key}: image stages run on it"
        assert fmt == DATASETS[key].format, key


# ---------------------------------------------------------------- every method's model block reaches something


def _declared_knobs(block, prefix: str = "") -> list[str]:
    """Dotted paths of the knobs a ModelBlock (and its sub-blocks) declares as the module's own."""
    paths = [prefix + knob for knob in block.knobs]
    for key, sub in block.blocks.items():
        paths += _declared_knobs(sub, f"{prefix}{key}.")
    return paths


def _default_model_block(name: str):
    path = registry.DEFAULTS_DIR / "methods" / f"{name}.yaml"
    empty = OmegaConf.create({})
    return path.relative_to(REPO), load_yaml(path).get("model", empty) if path.is_file() else empty


@pytest.mark.parametrize("name", sorted(registry.methods()))
def test_every_key_of_a_methods_model_block_reaches_its_network_or_its_module(name):
    """A YAML knob that reaches nothing fails CI: every key of the method's default `model` block is an argument of
    the network its module builds (typed by the constructor's signature) or a knob the module declares in its
    ``model_block``; and every declared knob is in the defaults (lightning_modules/layers/config.py)."""
    block = registry.method(name).load().model_block
    assert isinstance(block, ModelBlock)
    path, model = _default_model_block(name)
    assert block.unused(model) == [], f"keys of {path} that nothing reads"
    missing = [k for k in _declared_knobs(block) if OmegaConf.select(model, k, default="<missing>") == "<missing>"]
    assert missing == [], f"declared by the module but not in {path}"


def test_a_knob_that_reaches_nothing_is_found():
    """Negative control: two typos added to geograph's defaults, one in a network argument, one in a loss knob."""
    _, model = _default_model_block("geograph")
    OmegaConf.set_struct(model, False)
    model.semantic_lr_scal = 0.5
    model.au_loss.wieght = 1.0
    block = registry.method("geograph").load().model_block
    assert block.unused(model) == ["model.au_loss.wieght", "model.semantic_lr_scal"]


def test_every_experiment_config_fits_its_methods_types():
    """Every experiment's `model` block (defaults and experiment YAML merged) passes its module's check: no key
    that reaches nothing, every value converts to its constructor argument's type (a Literal choice misspelt in an
    experiment YAML fails here, not when that experiment first runs). No profile sets a `model` key."""
    from experiments.config import load_experiment

    exp_ids = registry.experiment_ids()
    for exp_id in exp_ids:
        cfg = load_experiment(exp_id, params=OmegaConf.create({}))
        registry.method(cfg.method).load().model_block.check(cfg)
    assert len(exp_ids) >= 80
