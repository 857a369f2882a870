"""Load a script of benchmarks/ as a module in a test. benchmarks/ is a script folder, not a package: a script there
imports its siblings (timed_runs, eeg_protocols, ...) as python does when it runs the script, so the folder is put on
sys.path for the load, and for the rest of the test when a monkeypatch is given (a script that imports a sibling
inside a function needs it then too)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(name: str, monkeypatch=None) -> ModuleType:
    """benchmarks/<name>.py as a fresh module (a new one on each call, so a test may set its globals)."""
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    if monkeypatch is not None:
        monkeypatch.syspath_prepend(str(BENCHMARKS))
        spec.loader.exec_module(module)
        return module
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module
