"""The declaration each method sub-package makes, so the registry can list methods without importing torch."""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path

TASKS = ("mer", "au", "masked", "gesture", "rec", "cdmer", "eeg")
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class MethodSpec:
    """What the runner needs to know about a method.

    name: registry key (the sub-package name); task: one of TASKS; module/cls: where the LightningModule lives
    (imported lazily; for task ``cdmer`` a fit function of the transductive protocol, ``fit(problem, params,
    **model_knobs)``, datamodules/cross_database.py); inputs: the batch keys it reads (see docs/architecture.md);
    paper: citation of the paper it re-implements; summary: one line for `affect list`; faithfulness: where and why
    the re-implementation cannot be faithful to the paper (shown next to its numbers in the comparison report);
    defaults_chosen: how the defaults the paper does not give were chosen: "inner validation on training subjects
    (`affect tune ...`: the scores)" or "fixed a priori (why)" (the report's Methods table; "not stated" when
    empty).
    """

    name: str
    task: str
    module: str
    cls: str
    inputs: tuple[str, ...] = ()
    paper: str = ""
    summary: str = ""
    extra: dict = field(default_factory=dict)
    faithfulness: str = ""
    defaults_chosen: str = ""

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"method {self.name!r}: task must be one of {TASKS}, got {self.task!r}")

    def load(self):
        """Import and return the LightningModule class."""
        return getattr(importlib.import_module(self.module), self.cls)

    def faithfulness_note(self, cfg=None) -> tuple[str, bool]:
        """(note, declared): where and why the method cannot be faithful to its paper, for the report.

        Declared in ``MethodSpec(faithfulness=...)``, ``extra["faithfulness"]`` or a module-level ``FAITHFULNESS``
        string of the package; otherwise read from the method's docstrings (``declared`` False): the paragraph
        that starts with "Faithful" and the file whose docstring lists the choices made where the paper is silent.
        With a run's resolved config ``cfg``, a package that defines ``run_condition(cfg) -> str`` (the condition
        of this run that the report must show, e.g. MPT's randomly initialised backbone) has it put first.
        The runner writes both into run.json, which is where the report reads them.
        """
        declared = self.faithfulness or str(self.extra.get("faithfulness", "")) or _module_string(self.name)
        note = declared or docstring_note(PACKAGE_DIR / self.name)
        condition = _run_condition(self.name, cfg) if cfg is not None else ""
        return (f"{condition}. {note}" if condition else note), bool(declared)


def _module_string(method: str) -> str:
    try:
        module = importlib.import_module(f"lightning_modules.{method}")
    except ModuleNotFoundError:
        return ""
    value = getattr(module, "FAITHFULNESS", "")
    return value if isinstance(value, str) else ""


def _run_condition(method: str, cfg) -> str:
    try:
        module = importlib.import_module(f"lightning_modules.{method}")
    except ModuleNotFoundError:
        return ""
    condition = getattr(module, "run_condition", None)
    return str(condition(cfg)).rstrip(". ") if callable(condition) else ""


def docstring_note(folder: Path) -> str:
    """The "Faithful ..." paragraph of the method's docstrings and where its choices are listed."""
    faithful, choices = "", ""
    for path in sorted(folder.glob("*.py")):
        for paragraph in _docstring_paragraphs(path):
            if not faithful and paragraph.lower().startswith("faithful"):
                faithful = paragraph
            if not choices and "choice" in paragraph.lower():
                choices = f"lightning_modules/{folder.name}/{path.name}"
    if not faithful and not choices:
        return f"not declared: read the docstrings in lightning_modules/{folder.name}/"
    text = faithful or "no faithfulness paragraph in the docstrings."
    return text + (f" Choices where the paper is silent: see {choices}." if choices else "")


def _docstring_paragraphs(path: Path) -> list[str]:
    try:
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except (OSError, SyntaxError, ValueError):
        return []
    return [" ".join(p.split()) for p in docstring.split("\n\n") if p.strip()]
