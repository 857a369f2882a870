import os
import sys
from pathlib import Path

import pytest

from core import process

sys.path.insert(0, str(Path(__file__).parent))
process.configure()  # the thread policy of every entry point, before torch loads (core/process.py)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder (params.yaml with a private MLflow store) used as AFFECT_ROOT."""
    from processed_fixture import write_params

    write_params(tmp_path)
    monkeypatch.setenv("AFFECT_ROOT", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (restored after): small models on a shared 2-core machine train several times
    faster on one thread than on two spin-waiting ones. Modules of small-model tests use it for every test
    (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
