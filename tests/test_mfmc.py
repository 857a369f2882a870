"""MFMC: the DEAP stand-in's peripheral channels, the reader's per-modality inputs, the FMCA trace and its surrogate,
the DTC objective, label-free pretraining and a tiny fit (CPU, a few seconds)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io
import torch

from core.errors import ConfigError
from datamodules.eeg import EEGSource
from experiments.config import load_experiment
from experiments.tasks.eeg import prepare
from lightning_modules.mfmc import losses
from lightning_modules.mfmc.module import MFMCModule
from rawdata.layouts import deap as layout
from rawdata.synth import generate


class _Spec:
    inputs = ()


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    out = tmp_path_factory.mktemp("mfmc") / "deap"
    generate("deap", out, subjects=2, seed=4, samples=6 * 128)
    return out


def _signals(folder):
    return [scipy.io.loadmat(str(p))["data"] for p in sorted((folder / layout.MATLAB_DIR).glob("s*.mat"))]


def test_peripheral_knob_leaves_the_eeg_channels_bit_identical_and_follows_arousal(root, tmp_path):
    generate("deap", tmp_path / "off", subjects=2, seed=4, samples=6 * 128, peripheral=False)
    on, off = _signals(root), _signals(tmp_path / "off")
    for a, b in zip(on, off, strict=True):
        assert np.array_equal(a[:, : layout.N_EEG], b[:, : layout.N_EEG])
        assert not np.allclose(a[:, layout.N_EEG:], b[:, layout.N_EEG:])
    labels = scipy.io.loadmat(str(sorted((root / layout.MATLAB_DIR).glob("s*.mat"))[0]))["labels"]
    gsr = on[0][:, layout.CHANNELS.index("GSR")].mean(1)
    assert np.corrcoef(gsr, labels[:, 1])[0, 1] > 0.5  # tonic GSR level rises with the arousal rating
    assert abs(np.corrcoef(off[0][:, layout.CHANNELS.index("GSR")].mean(1), labels[:, 1])[0, 1]) < 0.5


def test_reader_gives_aligned_raw_segments_per_modality_and_refuses_bad_names(root):
    cfg = load_experiment("mfmc/deap", [f"data.eeg_root={root}"])
    prepared = prepare(cfg, _Spec(), root)
    source, fold = prepared.source, prepared.folds[0]
    assert set(source.peripheral) == {"gsr", "respiration", "plethysmograph"}
    assert all(v.shape == (len(source.x), 128) for v in source.peripheral.values())
    raw = _signals(root)[0][0, layout.CHANNELS.index("GSR"), 3 * 128: 4 * 128]  # subject 1, trial 1, window 0
    assert np.allclose(source.peripheral["gsr"][0], raw)
    assert source.info(fold.train).extra["peripheral"] == {"gsr": 128, "respiration": 128, "plethysmograph": 128}
    item = next(iter(source.datamodule(fold).train_dataloader()))
    assert item["x_gsr"].shape[1] == 128 and item["x"].shape[1:] == (32, 4)
    for bad in ("[gsr, pulse]", "[gsr, gsr]"):
        with pytest.raises(ConfigError, match="data.peripheral"):
            EEGSource(load_experiment("mfmc/deap", [f"data.eeg_root={root}", f"data.peripheral={bad}"]), (), ".")


def _latent(n: int, shared: bool, seed: int = 0, m: int = 3) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(n, 2, generator=g)
    out = []
    for _ in range(m):
        own = z if shared else torch.randn(n, 2, generator=g)
        out.append(torch.sigmoid(own @ torch.randn(2, 8, generator=g) + 0.3 * torch.randn(n, 8, generator=g)))
    return out


def test_fmca_trace_and_one_vs_rest_dependence_rise_with_a_shared_factor():
    shared, independent = _latent(2000, True), _latent(2000, False)
    assert losses.fmca_trace(shared[0], shared[1]) > losses.fmca_trace(independent[0], independent[1]) + 0.5
    rest = [losses.fmca_trace(f[0], losses.rest_of(f, 0)) for f in (shared, independent)]
    assert rest[0] > rest[1] + 0.5
    assert 0.9 < float(losses.fmca_trace(independent[0], independent[1])) < 1.2  # the constant mode only (~1)


def test_surrogate_gradient_is_the_trace_gradient_at_the_first_step():
    x, y = (t.clone().requires_grad_(True) for t in _latent(500, True)[:2])
    loss = losses.fmca_surrogate(x, y, losses.TrackedMoments(8, 8), beta=0.5)
    gx, gy = torch.autograd.grad(loss, (x, y))
    x2, y2 = x.detach().clone().requires_grad_(True), y.detach().clone().requires_grad_(True)
    tx, ty = torch.autograd.grad(-losses.fmca_trace(x2, y2), (x2, y2))
    assert abs(float(loss.detach())) < 1e-3  # the surrogate's value cancels: logs read fmca_trace
    assert torch.allclose(gx, tx, atol=1e-4) and torch.allclose(gy, ty, atol=1e-4)


def _module(root, objective: str = "dtc", **extra):
    cfg = load_experiment("mfmc/deap", [f"data.eeg_root={root}", f"model.objective={objective}", "seed=0",
                                        *[f"{k}={v}" for k, v in extra.items()]])
    prepared = prepare(cfg, _Spec(), root)
    fold = prepared.folds[0]
    torch.manual_seed(0)
    module = MFMCModule(cfg, prepared.source.info(fold.train))
    return module, prepared.source.datamodule(fold)


def test_ssl_gradients_reach_every_encoder_and_head_while_labels_reach_only_the_probe(root):
    module, data = _module(root)
    batch = next(iter(data.train_dataloader()))
    module.train()
    _, terms = module.compute(batch)
    terms["ssl"].backward()
    for name, encoder in module.network.encoders.items():
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters()), name
    assert all(p.grad is not None for p in module.network.projectors.parameters())
    module.zero_grad(set_to_none=True)
    _, terms = module.compute(batch)
    terms["ce"].backward()
    assert all(p.grad is None for p in module.network.encoders.parameters())
    assert all(p.grad is not None for p in module.network.probe.parameters())


def _train(module, data, steps: int, permute: bool = False) -> list[float]:
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(1)
    module.train()
    values = []
    for _ in range(steps):
        for batch in data.train_dataloader():
            if permute:
                batch["y"] = batch["y"][torch.randperm(len(batch["y"]), generator=g)]
            _, terms = module.compute(batch)
            optimizer.zero_grad(set_to_none=True)
            torch.stack(list(terms.values())).sum().backward()
            optimizer.step()
            values.append(float(terms["ce"]))
    return values


def test_pretraining_reads_no_labels_permuted_labels_leave_the_encoders_identical(root):
    (a, data_a), (b, data_b) = _module(root), _module(root)
    _train(a, data_a, 3)
    _train(b, data_b, 3, permute=True)
    for (name, p), q in zip(a.network.encoders.state_dict().items(), b.network.encoders.state_dict().values(),
                            strict=True):
        assert torch.equal(p, q), name
    assert not all(torch.equal(p, q) for p, q in zip(a.network.probe.parameters(), b.network.probe.parameters(),
                                                      strict=True))


@pytest.mark.parametrize("objective", ["dtc", "pairwise_infonce"])
def test_tiny_fit_raises_the_one_vs_rest_dependence_and_fits_the_probe(root, objective):
    module, data = _module(root, objective)
    batch = next(iter(data.train_dataloader()))

    def dependence() -> float:
        module.eval()
        with torch.no_grad():
            f = module.network.encode(batch)
            return float(sum(losses.fmca_trace(f[n], losses.rest_of([f[k] for k in f], i))
                             for i, n in enumerate(f)))

    before = dependence()
    ce = _train(module, data, 25)
    assert dependence() > before + 0.3
    assert np.mean(ce[-5:]) < np.mean(ce[:5])


def test_supervised_and_eeg_only_references_build_and_single_modality_ssl_is_refused(root):
    module, data = _module(root, "supervised", **{"model.probe_on": "[eeg,gsr,respiration,plethysmograph]"})
    batch = next(iter(data.train_dataloader()))
    module.train()
    _, terms = module.compute(batch)
    assert set(terms) == {"ce"}
    terms["ce"].backward()
    assert all(p.grad is not None for p in module.network.encoders["gsr"].parameters())
    with pytest.raises(ValueError, match="needs >= 2 modalities"):
        _module(root, "dtc", **{"data.peripheral": "[]"})
