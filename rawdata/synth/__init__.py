"""Stand-in dataset generators: `affect synth <kind> --out DIR [--subjects N] [--seed S] ...`.

The kinds and their generators are declared with their datasets in rawdata/datasets.py (``Dataset.synth``,
``Dataset.generator``); a generator has the signature
``generate(out: Path, subjects: int | None, seed: int, **kind_specific) -> dict`` (a JSON-ready summary), takes the
kind as ``dataset`` when it has such a parameter (one generator serving several layouts), and writes
SYNTHETIC.json (generator, version, seed, parameters) next to the data. A kind with variants (``smic``: the HS, VIS
and NIR channels, rawdata/datasets.py ``VARIANTS``) takes ``variant=`` and writes that variant's dataset.

:func:`generate` runs a generator into a staging folder beside `out` and renames it into place only when it
is complete, so an interrupted run never leaves a half-written stand-in that looks finished. An existing `out`
is replaced only if it is itself a stand-in (has SYNTHETIC.json); a licensed dataset is never overwritten.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from core.errors import AffectError
from rawdata.datasets import STANDINS, standin, standin_variant
from rawdata.index import is_standin

KINDS: tuple[str, ...] = tuple(sorted(STANDINS))


def generator(kind: str) -> Callable[..., dict]:
    """The generator function declared for `kind` (the kind bound as ``dataset`` when the function takes it)."""
    module, function = standin(kind).generator.split(":")
    found = getattr(importlib.import_module(module), function)
    if "dataset" in inspect.signature(found).parameters:
        return functools.partial(found, dataset=kind)
    return found


def check_options(kind: str, function: Callable, options: dict) -> None:
    """An option the generator cannot take is a user error naming the ones it can."""
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    unknown = sorted(set(options) - set(parameters))
    if unknown:
        known = sorted(set(parameters) - {"out", "subjects", "seed", "dataset"})
        raise AffectError(f"`affect synth {kind}` does not take {unknown}", hint=f"it takes {known or 'no options'}")


def generate(kind: str, out: str | Path, subjects: int | None = None, seed: int = 0, **options) -> dict:
    """Write the stand-in `kind` into `out` atomically (see the module docstring) and return its summary."""
    function = generator(kind)
    declared = standin_variant(kind, options.get("variant"))  # an unknown variant is an error naming the known ones
    check_options(kind, function, options)
    if subjects is None:
        subjects = declared.standin_subjects
    out = Path(out)
    if out.exists() and not is_standin(out) and (not out.is_dir() or any(out.iterdir())):
        raise AffectError("refusing to overwrite a folder that is not a stand-in (no SYNTHETIC.json)", path=out,
                          hint="choose an empty --out folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        summary = function(out=staging, subjects=subjects, seed=seed, **options)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    if isinstance(summary, dict) and "out" in summary:
        summary["out"] = str(out)
    return summary
