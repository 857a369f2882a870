"""Compute of the landmark methods next to STSTNet: parameters, FLOPs and CPU inference time per sample.

The geometric graph paper (arXiv 2205.00380) claims far lower compute than RGB/flow networks; this measures it.
Each network is built with its method's default config (experiments/_defaults/methods/*.yaml) for the 5-class
CASME II setting. FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode`` for one sample's forward pass
(it counts matrix products and convolutions, 2 FLOPs per multiply-add; element-wise ops are not counted).
Inference time: eval mode, ``torch.no_grad``, one thread, median over repeats of the process CPU time (robust
to other jobs on a shared machine; the load average is recorded), at batch 1 and per sample at batch 32.
STSTNet's input (the 28x28 flow image) needs optical flow first; that preprocessing is not timed here (see the
preprocessing benchmarks), nor is the landmark detector for the graph methods.

With ``--loso``, also times each method's full LOSO experiment on the composite stand-in through the runner
(``affect train <method>/composite``; needs data/processed/{casme2,samm,smic}) and records its seconds, folds and
UF1/UAR; the target is under 5 minutes per method on the 2-core machine.

Writes benchmarks/results/graph_methods.json. Run: ``.venv/bin/python benchmarks/graph_methods.py [--loso]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import torch
from torch.utils.flop_counter import FlopCounterMode

from core.io import write_json
from experiments.config import load_experiment

RESULTS = Path(__file__).resolve().parent / "results" / "graph_methods.json"
EXPERIMENT_DATASET = "casme2"


def build(method: str) -> tuple[torch.nn.Module, torch.Tensor]:
    """The method's network, built by its own LightningModule from the default config (so every model.* knob is
    the one training uses), and one random input sample."""
    from datamodules.micro_expression import DataInfo
    from experiments import registry

    cfg = load_experiment(f"{method}/{EXPERIMENT_DATASET}", profile="default")
    classes, aus = list(cfg.data.classes), [str(a) for a in cfg.data.aus]
    info = DataInfo(n_classes=len(classes), class_names=classes, au_names=aus, n_train=len(classes) * 10,
                    class_counts=[10] * len(classes), au_frequency=[0.2] * len(aus))
    net = registry.method(cfg.method).load()(cfg, info).net
    if method == "ststnet":
        return net, torch.randn(1, 3, 28, 28)
    return net, torch.rand(1, int(cfg.data.seq_len), 68, 2) * 80 + 24


def count_flops(net: torch.nn.Module, sample: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        net(sample)
    return int(counter.get_total_flops())


def seconds_per_sample(net: torch.nn.Module, sample: torch.Tensor, batch: int, repeats: int) -> float:
    inputs = sample.expand(batch, *sample.shape[1:]).contiguous()
    with torch.no_grad():
        for _ in range(3):
            net(inputs)
        times = []
        for _ in range(repeats):
            start = time.process_time()
            net(inputs)
            times.append(time.process_time() - start)
    return statistics.median(times) / batch


def measure(method: str) -> dict:
    torch.manual_seed(0)
    net, sample = build(method)
    net.eval()
    return {
        "input": list(sample.shape[1:]),
        "parameters": sum(p.numel() for p in net.parameters()),
        "flops_per_sample": count_flops(net, sample),
        "cpu_ms_per_sample_batch1": round(1000 * seconds_per_sample(net, sample, 1, repeats=50), 3),
        "cpu_ms_per_sample_batch32": round(1000 * seconds_per_sample(net, sample, 32, repeats=10), 3),
    }


def time_loso(experiment: str) -> dict:
    """Wall and CPU seconds and pooled metrics of one full LOSO experiment run by the runner."""
    from experiments.runner import train

    start, cpu_start = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    metrics = train(experiment)
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    return {"wall_seconds": round(time.perf_counter() - start, 1), "cpu_seconds": round(cpu, 1),
            "load_average_1min": round(os.getloadavg()[0], 2), "n_folds": metrics["n_folds"],
            "n_samples": metrics["n_samples"], "uf1": round(metrics["uf1"], 4), "uar": round(metrics["uar"], 4),
            "threads": torch.get_num_threads()}


def main(loso: bool = False) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    results = {
        "methods": {method: measure(method) for method in ("geograph", "dere_grl", "ststnet")},
        "config": f"method defaults, {EXPERIMENT_DATASET} (5 classes)",
        "threads": 1,
        "machine": {"python": platform.python_version(), "torch": torch.__version__,
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }
    torch.set_num_threads(threads)
    if loso:
        results["loso_composite"] = {m: time_loso(f"{m}/composite") for m in ("geograph", "dere_grl", "lbp_sdg")}
    elif RESULTS.is_file():  # keep the last LOSO timings when only the compute figures are refreshed
        previous = json.loads(RESULTS.read_text())
        if "loso_composite" in previous:
            results["loso_composite"] = previous["loso_composite"]
    write_json(RESULTS, results)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loso", action="store_true", help="also time LOSO on the composite stand-in")
    print(json.dumps(main(parser.parse_args().loso), indent=2))
