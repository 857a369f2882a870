"""The fit function the cross-database task loop calls (experiments/tasks/cross_database.py): the method's fixed
knobs (``model:``) with a grid point over them -> a fitted :class:`DomainAdaptedSVM`."""

from __future__ import annotations

from dataclasses import fields

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
