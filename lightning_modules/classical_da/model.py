"""The fit function the cross-database task loop calls (experiments/tasks/cross_database.py): the method's fixed
knobs (``model:``) with a grid point over them -> a fitted :class:`DomainAdaptedSVM`."""

from __future__ import annotations

from dataclasses import fields, is_dataclass

from lightning_modules.layers.config import ModelBlock
from lightning_modules.layers.domain_adaptation import ADAPTERS, DomainAdaptedSVM, make_adapter


def fit(problem, params: dict, **fixed) -> DomainAdaptedSVM:
    """``model.adapter`` picks the adapter; of the other knobs it takes those its dataclass declares (so one flat
    ``model:`` block serves every adapter), plus ``c`` and ``standardize`` for the SVM."""
    knobs = {**fixed, **params}
    name = str(knobs.pop("adapter", "none"))
    if name not in ADAPTERS:
        raise ValueError(f"model.adapter: unknown adapter {name!r}; expected one of {', '.join(ADAPTERS)}")
    declared = {f.name for f in fields(ADAPTERS[name])} if name != "none" else set()
    adapter = make_adapter(name, **{k: v for k, v in knobs.items() if k in declared})
    model = DomainAdaptedSVM(adapter, float(knobs.get("c", 1.0)), bool(knobs.get("standardize", True)))
    return model.fit(problem.xs, problem.ys, problem.xt, problem.n_classes)


# the keys of `model:` (one flat block for every adapter): checked like every method's (tests/test_architecture.py)
_ADAPTER_KNOBS = sorted({f.name for cls in ADAPTERS.values() if is_dataclass(cls) for f in fields(cls)}
                        - {"sample_weight"})  # set by KMM's fit, not a knob
fit.model_block = ModelBlock(knobs=("adapter", "c", "standardize", *_ADAPTER_KNOBS))
