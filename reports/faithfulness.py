"""Where each method cannot be faithful to its paper, and what else the report knows of methods it never imports.

The report reads results/ and the leaf package only. What it needs of a method comes from two places:

- run.json of each run: the runner writes the method's ``paper``, ``summary``, ``task``, ``protocol``,
  ``faithfulness`` (the note), ``faithfulness_declared`` (declared by the method, or read from its docstrings;
  ``MethodSpec.faithfulness_note`` in lightning_modules/spec.py) and ``defaults_chosen`` (how the defaults the
  paper does not give were chosen: inner validation or fixed a priori; ``MethodSpec.defaults_chosen``);
- a :class:`Catalogue` handed in by the caller, for experiments that have no run yet: ``affect report`` passes the
  suite's (experiments/catalogue.py: the registry and the experiment YAMLs). The base class knows nothing, and the
  report then works from results/ alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MethodNote:
    method: str
    task: str
    paper: str
    note: str
    declared: bool
    defaults_chosen: str = ""


class Catalogue:
    """The suite's declarations as far as the report needs them; this base class declares nothing."""

    def experiments(self) -> list[str]:
        """Every configured `<name>/<dataset>` (shown as "not run" when it has no results)."""
        return []

    def method_of(self, exp_id: str) -> str | None:
        """The method an experiment runs (its YAML's ``method:``), when the run did not say."""
        return None

    def protocol_of(self, exp_id: str) -> str | None:
        """The protocol name of an experiment whose run.json predates the ``protocol`` field."""
        return None

    def method_note(self, method: str) -> MethodNote | None:
        """A method's task, paper and faithfulness note, for methods no run.json describes."""
        return None


def note_from_run(method: str, run: dict) -> MethodNote | None:
    """The note a run recorded in its run.json (None for runs made before the runner wrote it)."""
    if not isinstance(run, dict) or not isinstance(run.get("faithfulness"), str):
        return None
    return MethodNote(method, str(run.get("task", "")), str(run.get("paper", "")), run["faithfulness"],
                      bool(run.get("faithfulness_declared", True)), str(run.get("defaults_chosen") or ""))
