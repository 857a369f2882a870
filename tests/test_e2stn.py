"""E2STN (lightning_modules/e2stn/) and the cross-dataset EEG task it runs on (SEED <-> SEED-IV).

Fast: a tiny fit lowers the loss; the stylised windows take the paired target windows' statistics (closer than the
raw source windows are); through the real data path (datamodules/eeg.py CrossDatasetEEGSource) permuting the
TARGET's labels leaves the predictions bit-identical while permuting the SOURCE's changes them (the positive
control that shows the check can fail); bad configs are one-line errors. Slow: `affect train` end to end.
"""

from __future__ import annotations

import pytest
import torch

from core.errors import ConfigError
from datamodules.eeg import EEGInfo
from experiments import registry
from experiments.config import load_experiment
from experiments.tasks.eeg import prepare
from lightning_modules.e2stn.module import electrode_stats
from rawdata.layouts.seed import BANDS, CHANNELS
from rawdata.synth import generate


class _Spec:
    inputs = ()


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """Both stand-ins with the same generator seed (their class patterns overlap by construction), 2 subjects."""
    root = tmp_path_factory.mktemp("eeg_cross")
    for kind in ("seed", "seed_iv"):
        generate(kind, root / kind, subjects=2, seed=0, windows=(3, 4), psd=False)
    return root


def config(experiment: str, roots=None, *overrides: str):
    found = [f"data.eeg_roots.{k}={roots / k}" for k in ("seed", "seed_iv")] if roots is not None else []
    return load_experiment(experiment, [*found, *overrides])


def info(n_classes: int = 3) -> EEGInfo:
    return EEGInfo(n_classes=n_classes, class_names=["negative", "neutral", "positive"][:n_classes],
                   channels=list(CHANNELS), bands=list(BANDS), n_train=96)


def build(*overrides: str, experiment: str = "e2stn/seed_to_seed_iv"):
    torch.manual_seed(0)
    cfg = config(experiment, None, *overrides)
    return registry.method("e2stn").load()(cfg, info())


def toy_batch(n: int = 96, seed: int = 0) -> dict:
    """Source windows whose class shifts a fixed pattern; target windows in another style (per-band gain and
    level, the statistics a transfer has to take)."""
    patterns = torch.randn(3, 62, 5, generator=torch.Generator().manual_seed(1234))
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 3
    x = 0.8 * patterns[y] + torch.randn(n, 62, 5, generator=g)
    gain, level = torch.tensor([1.5, 0.6, 2.0, 1.0, 0.8]), torch.tensor([0.8, -0.5, 1.2, 0.0, -1.0])
    x_target = gain * (0.8 * patterns[y.flip(0)] + torch.randn(n, 62, 5, generator=g)) + level
    return {"x": x, "y": y, "x_target": x_target, "domain": torch.zeros(n, dtype=torch.long)}


def fit(module, steps: int, batch: dict) -> list[float]:
    optimiser = torch.optim.Adam(module.parameters(), lr=3e-3)
    module.train()
    history = []
    for _ in range(steps):
        optimiser.zero_grad()
        loss = torch.stack(list(module.compute(batch)[1].values())).sum()
        loss.backward()
        optimiser.step()
        history.append(float(loss.detach()))
    return history


def test_a_tiny_fit_lowers_every_term_of_the_loss():
    module = build("model.dropout=0.0")
    batch = toy_batch()
    module.train()
    before = {k: float(v.detach()) for k, v in module.compute(batch)[1].items()}
    history = fit(module, 60, batch)
    after = {k: float(v.detach()) for k, v in module.compute(batch)[1].items()}
    assert set(before) == {"ce", "content", "style", "reconstruction"}
    assert history[-1] < 0.5 * history[0]
    assert all(after[k] < before[k] for k in before), (before, after)
    module.eval()
    with torch.no_grad():
        accuracy = (module.compute(batch)[0]["scores"].argmax(1) == batch["y"]).float().mean()
    assert accuracy > 0.6  # chance 1/3


def _style_gap(x: torch.Tensor, x_target: torch.Tensor) -> float:
    (mu, sd), (mu_t, sd_t) = electrode_stats(x), electrode_stats(x_target)
    return float((mu - mu_t).abs().mean() + (sd - sd_t).abs().mean())


def test_the_stylised_windows_take_the_target_statistics_and_keep_the_source_pattern():
    module = build("model.dropout=0.0")
    fit(module, 60, toy_batch(seed=0))
    held_out = toy_batch(seed=1)  # windows the fit never saw
    module.eval()
    with torch.no_grad():
        stylised = module.network.stylise(held_out["x"], held_out["x_target"])
    raw_gap, stylised_gap = _style_gap(held_out["x"], held_out["x_target"]), _style_gap(stylised, held_out["x_target"])
    assert stylised_gap < 0.5 * raw_gap, (stylised_gap, raw_gap)
    # the content (instance-normalised pattern) stays the source's: closer to its own source than to another's
    flat = lambda t: ((t - t.mean(1, keepdim=True)) / t.std(1, keepdim=True)).flatten(1)  # noqa: E731
    own = torch.nn.functional.cosine_similarity(flat(stylised), flat(held_out["x"])).mean()
    other = torch.nn.functional.cosine_similarity(flat(stylised), flat(held_out["x"].roll(1, 0))).mean()
    assert own > other + 0.3, (own, other)


def test_without_the_transfer_module_it_is_the_plain_classifier():
    module = build("model.transfer=false", "data.transductive=false")
    assert module.network.transfer is None
    batch = {k: v for k, v in toy_batch().items() if k != "x_target"}
    assert set(module.compute(batch)[1]) == {"ce"}
    full = build()
    assert sum(p.numel() for p in full.network.classifier.parameters()) == sum(
        p.numel() for p in module.network.parameters())


def _predictions(cfg, source, fold, steps: int = 12) -> torch.Tensor:
    """E2STN trained `steps` batches through the real window DataModule; softmax scores on the test side."""
    torch.manual_seed(0)
    module = registry.method("e2stn").load()(cfg, source.info(fold.train))
    datamodule = source.datamodule(fold, seed=0)
    optimiser = torch.optim.Adam(module.parameters(), lr=1e-3)
    module.train()
    done = 0
    while done < steps:
        for batch in datamodule.train_dataloader():
            optimiser.zero_grad()
            torch.stack(list(module.compute(batch)[1].values())).sum().backward()
            optimiser.step()
            done += 1
            if done == steps:
                break
    module.eval()
    with torch.no_grad():
        return torch.cat([module.predict_step(b, 0)["scores"] for b in datamodule.predict_dataloader()])


def test_cross_dataset_source_keys_subjects_by_dataset_and_trains_on_the_source_only(roots):
    cfg = config("e2stn/seed_to_seed_iv", roots)
    prepared = prepare(cfg, _Spec, roots)
    source, (fold,) = prepared.source, prepared.folds
    assert fold.name == "source=seed/target=seed_iv" and prepared.standin
    index = source.index.set_index("sample_id")
    assert set(index.loc[list(fold.train), "dataset"]) == {"seed"}
    assert set(index.loc[list(fold.test), "dataset"]) == {"seed_iv"}
    assert set(source.index["subject"]) == {"seed/1", "seed/2", "seed_iv/1", "seed_iv/2"}
    assert set(source.trials["emotion"]) == {"negative", "neutral", "positive"}
    sad_or_fear = source.trials[(source.trials["dataset"] == "seed_iv") & source.trials["original_label"].isin([1, 2])]
    assert set(sad_or_fear["emotion"]) == {"negative"}  # the merged mapping


def test_target_labels_never_reach_training(roots):
    cfg = config("e2stn/seed_to_seed_iv", roots)
    prepared = prepare(cfg, _Spec, roots)
    source, fold = prepared.source, prepared.folds[0]
    reference = _predictions(cfg, source, fold)
    target = source.index["dataset"].to_numpy() == "seed_iv"
    y = source.index["y"].to_numpy().copy()
    generator = torch.Generator().manual_seed(3)
    permuted = y.copy()
    permuted[target] = y[target][torch.randperm(int(target.sum()), generator=generator).numpy()]
    assert (permuted != y).any()
    source.index["y"] = permuted
    assert torch.equal(_predictions(cfg, source, fold), reference)
    # positive control: the same permutation applied to the SOURCE labels does change what is learnt
    swapped = y.copy()
    swapped[~target] = y[~target][torch.randperm(int((~target).sum()), generator=generator).numpy()]
    source.index["y"] = swapped
    assert not torch.equal(_predictions(cfg, source, fold), reference)


@pytest.mark.parametrize("overrides, message", [
    (("data.transductive=false",), "needs the unlabelled target"),
    (("model.transfer=false",), "reads no target window"),
    (("model.style_weight=-1.0",), "must be >= 0"),
    (("model.width=0",), "must be >= 1"),
    (("model.stlye_weight=1.0",), "stlye_weight"),
])
def test_bad_method_config_is_an_error(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build(*overrides)


@pytest.mark.parametrize("overrides, message", [
    (("data.classes=[neutral,positive]",), "not the merged mapping's classes"),
    (("protocol.mapping=loose",), "protocol.mapping='loose'"),
    (("data.sources=[seed,seed]",), "two different datasets"),
])
def test_bad_cross_dataset_config_is_an_error(roots, overrides, message):
    with pytest.raises(ConfigError, match=message):
        prepare(config("e2stn/seed_to_seed_iv", roots, *overrides), _Spec, roots)


def test_a_missing_dataset_folder_names_its_key(roots, tmp_path):
    from core.errors import DatasetError

    with pytest.raises(DatasetError, match="data.eeg_roots.seed_iv"):
        prepare(config("e2stn/seed_to_seed_iv", roots, f"data.eeg_roots.seed_iv={tmp_path / 'none'}"), _Spec,
                roots)


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["e2stn/seed_iv_to_seed", "e2stn-no_transfer/seed_iv_to_seed"])
def test_train_end_to_end_on_the_standins(project, roots, experiment):
    import json

    from experiments.runner import train

    metrics = train(experiment, [f"data.eeg_roots.{k}={roots / k}" for k in ("seed", "seed_iv")]
                    + ["trainer.max_epochs=2"])
    out = project / "results" / experiment.split("/")[0] / experiment.split("/")[1]
    headline = json.loads((out / "metrics.json").read_text())
    details = json.loads((out / "details.json").read_text())
    assert headline["standin"] is True and metrics["n_folds"] == 1
    assert details["n_subjects"] == 2  # the target's subjects, scored one by one
    assert set(details["per_fold"]) == {f"source=seed_iv/target=seed/subject=seed/{s}" for s in (1, 2)}
