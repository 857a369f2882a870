"""The typed builder of lightning_modules/layers/config.py: a `model` block -> a network, each knob converted by the
constructor's annotation, and a key nothing reads refused with its name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pytest
from omegaconf import OmegaConf

from core.errors import ConfigError
from datamodules.micro_expression import DataInfo
from experiments.config import load_experiment
from lightning_modules.layers.config import ModelBlock, build_from_block
from lightning_modules.ststnet.module import STSTNetModule


class Net:
    """A stand-in network: records what it was given."""

    def __init__(self, n_classes: int, widths: Sequence[int] = (4, 8), pair: tuple[int, float] = (1, 0.5),
                 names: list[str] = (), dropout: float = 0.1, gate: float | None = 0.0,
                 mode: Literal["sum", "concat"] = "sum", batch_norm: bool = True, extra: dict[str, int] = None):
        self.given = dict(n_classes=n_classes, widths=widths, pair=pair, names=names, dropout=dropout, gate=gate,
                          mode=mode, batch_norm=batch_norm, extra=extra)


def run_cfg(**model):
    return OmegaConf.create({"method": "toy", "model": model})


def test_values_are_converted_by_annotation():
    cfg = run_cfg(widths=[16, 32], pair=[2, 3], names=["a", "b"], dropout=1, gate=None, mode="concat",
                  batch_norm=False, extra={"k": 3})
    given = ModelBlock(Net).build(cfg, n_classes=5).given
    assert given == dict(n_classes=5, widths=(16, 32), pair=(2, 3.0), names=["a", "b"], dropout=1.0, gate=None,
                         mode="concat", batch_norm=False, extra={"k": 3})
    assert type(given["dropout"]) is float and type(given["widths"]) is tuple and type(given["pair"][1]) is float


def test_absent_keys_take_the_signature_default_and_optional_takes_a_number():
    given = ModelBlock(Net).build(run_cfg(gate=0.5), n_classes=2).given
    assert given["gate"] == 0.5 and given["widths"] == (4, 8) and given["mode"] == "sum"


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("mode", "product", "model.mode must be one of 'sum', 'concat'"),
    ("widths", 16, "model.widths must be a list of int"),
    ("widths", [16, 2.5], "model.widths must be a list of int"),
    ("names", "ab", "model.names must be a list of str"),  # never split into characters
    ("pair", [1, 2, 3], r"model.pair must be a list of 2 \(int, float\)"),
    ("batch_norm", "false", "model.batch_norm must be bool"),  # never bool("false") == True
    ("dropout", "0.1", "model.dropout must be float"),
    ("gate", "none", "model.gate must be float or null"),
])
def test_a_value_that_does_not_convert_names_the_key_type_and_yaml(key, value, expected):
    with pytest.raises(ConfigError, match=expected) as error:
        ModelBlock(Net).build(run_cfg(**{key: value}), n_classes=2)
    assert "experiments/_defaults/methods/toy.yaml" in str(error.value)


def test_an_unused_key_is_refused_with_its_name_and_the_closest_knob():
    block = ModelBlock(Net, knobs=("label_smoothing", "loss.weight"))
    with pytest.raises(ConfigError, match=r"model.dropuot is read by nothing \(did you mean model.dropout\?\)"):
        block.build(run_cfg(dropuot=0.2), n_classes=2)
    with pytest.raises(ConfigError, match=r"model.loss.wieght is read by nothing \(did you mean model.loss.weight"):
        block.check(run_cfg(loss={"wieght": 1.0}))
    block.check(run_cfg(label_smoothing=0.1, loss={"weight": 1.0}, dropout=0.2))  # declared: accepted
    assert block.unused(OmegaConf.create({"typo": 1, "loss": {"weight": 1, "x": 2}})) == ["model.typo", "model.loss.x"]


def test_build_from_block_alone_refuses_undeclared_keys_and_passes_own_ones():
    with pytest.raises(ConfigError, match="model.au_weight is read by nothing"):
        build_from_block(Net, {"au_weight": 0.5}, {"n_classes": 2})
    assert build_from_block(Net, {"au_weight": 0.5}, {"n_classes": 2}, own={"au_weight"}).given["n_classes"] == 2


def test_a_missing_required_argument_and_a_data_argument_in_the_yaml_are_refused():
    with pytest.raises(ConfigError, match=r"model.n_classes is missing: Net needs it \(int\)"):
        ModelBlock(Net).build(run_cfg())
    with pytest.raises(ConfigError, match="model.n_classes is decided by the data"):
        ModelBlock(Net).build(run_cfg(n_classes=3), n_classes=2)
    with pytest.raises(TypeError, match="no argument"):
        ModelBlock(Net).build(run_cfg(), n_classes=2, n_aus=3)  # a programming error, not a config error


@dataclass(frozen=True)
class Settings:
    form: Literal["released", "decoupled"]
    width: int = 2


class Outer:
    def __init__(self, inner: Net, size: int, settings: Settings, nested: Settings | None = None):
        self.inner, self.size, self.settings, self.nested = inner, size, settings, nested


def test_sub_blocks_groups_and_nested_dataclasses():
    inner = ModelBlock(Net)
    outer = ModelBlock(Outer, knobs=("loss",), blocks={"inner": inner}, groups={"settings": Settings})
    cfg = run_cfg(inner={"widths": [3]}, size=4, form="decoupled", nested={"form": "released"}, loss={"any": 1})
    built = outer.build(cfg, inner=inner.build(cfg, "model.inner", n_classes=2))
    assert built.inner.given["widths"] == (3,) and built.size == 4
    assert built.settings == Settings("decoupled", 2) and built.nested == Settings("released", 2)
    assert outer.unused(OmegaConf.create({"inner": {"widhts": [3]}, "nested": {"form": "x", "wide": 1}})) == [
        "model.inner.widhts", "model.nested.wide"]
    with pytest.raises(ConfigError, match="model.form must be one of 'released', 'decoupled'"):
        outer.build(run_cfg(inner={}, size=4, form="both"), inner=None)
    with pytest.raises(ConfigError, match="model.nested.wide is read by nothing"):
        outer.build(run_cfg(inner={}, size=4, form="released", nested={"form": "released", "wide": 1}), inner=None)


def test_check_converts_every_value_before_any_work():
    block = ModelBlock(Outer, knobs=("loss",), blocks={"inner": ModelBlock(Net)}, groups={"settings": Settings})
    block.check(run_cfg(inner={"mode": "concat"}, size=4, form="released", loss="anything"))
    with pytest.raises(ConfigError, match="model.inner.mode must be one of"):
        block.check(run_cfg(inner={"mode": "product"}, size=4, form="released"))
    with pytest.raises(ConfigError, match="model.form must be one of"):
        block.check(run_cfg(inner={}, size=4, form="both"))
    with pytest.raises(ConfigError, match="model.size must be int"):
        block.check(run_cfg(inner={}, size="4", form="released"))


def test_a_module_refuses_a_typo_before_building():
    cfg = load_experiment("ststnet/casme2")
    OmegaConf.set_struct(cfg, False)
    cfg.model.widht = 3
    with pytest.raises(ConfigError, match=r"model.widht is read by nothing \(did you mean model.widths\?\)"):
        STSTNetModule(cfg, DataInfo(n_classes=3, class_names=["a", "b", "c"]))
