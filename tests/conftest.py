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


@pytest.fixture(scope="session")
def face_clip(tmp_path_factory):
    """A processed dataset of one real face clip (skimage's astronaut, 3 frames, aligned by the faces stage's
    function) whose clean landmarks the landmarks stage computed; and the params of that stage."""
    import numpy as np
    import pandas as pd
    import skimage.data
    from omegaconf import OmegaConf

    from core.io import write_npz
    from preprocessing import faces
    from preprocessing.stages import run_stage
    from rawdata.index import COLUMNS, save_index

    root = tmp_path_factory.mktemp("processed")
    image = np.ascontiguousarray(skimage.data.astronaut()[0:320, 80:400])
    aligned = faces.align_clip(np.stack([image] * 3), crop_size=128, upsample=(0,))
    write_npz(root / "d" / "faces" / "c1.npz", **aligned, frame_numbers=np.arange(1, 4))
    row = {c: "" for c in COLUMNS} | {"sample_id": "c1", "dataset": "d", "subject": "1", "clip": "c1", "onset": 1,
                                      "apex": 2, "offset": 3, "frames": ["1.jpg", "2.jpg", "3.jpg"],
                                      "frame_numbers": [1, 2, 3]}
    save_index(pd.DataFrame([row]), root / "d" / "index.csv")
    params = OmegaConf.create({"preprocess": {"crop_size": 128, "n_jobs": 1,
                                              "landmarks": {"method": "track", "window": 15, "upscale": 2}}})
    assert run_stage("landmarks", "d", params, root, jobs=1, progress=False)["n_done"] == 1
    return root, params
