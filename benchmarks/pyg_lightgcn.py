"""LightGCN propagation: ours (lightning_modules/layers/rec_graphs.py FixedSparse) against torch-geometric's LGConv.

Same graph (MovieLens-100k's training interactions, the symmetric-normalised bipartite adjacency), 2 layers,
d = 64, one thread, process CPU time of one forward + backward. LGConv is run three ways: on the edge list with
its own normalisation (``LGConv(normalize=True)``, what its docs show), on the edge list with the normalisation
precomputed, and on a torch CSR adjacency. Writes benchmarks/results/pyg_lightgcn.json. The numbers decided that
the recommenders keep FixedSparse (docs/architecture.md, "Libraries").

    .venv/bin/python benchmarks/pyg_lightgcn.py
"""

from __future__ import annotations

from core import process

process.configure()  # the thread policy, before torch loads (core/process.py)

import platform
import tempfile
import time
from pathlib import Path

import torch
from torch_geometric.nn import LGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_torch_csr_tensor

from core.io import write_json
from lightning_modules.layers.rec_graphs import FixedSparse, bipartite_adjacency, lightgcn_propagate
from rawdata.layouts.mmrec import load_mmrec
from rawdata.movielens import ensure_movielens_mmrec

RESULTS = Path(__file__).resolve().parent / "results" / "pyg_lightgcn.json"
LAYERS, DIM, REPEATS = 2, 64, 30


def cpu_ms(step, embeddings: torch.Tensor) -> float:
    for _ in range(3):
        step(embeddings).square().sum().backward()
    start = time.process_time()
    for _ in range(REPEATS):
        step(embeddings).square().sum().backward()
    return 1000 * (time.process_time() - start) / REPEATS


def main() -> int:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "movielens"
        ensure_movielens_mmrec(folder, seed=0)
        data = load_mmrec(folder)
    n = data.n_users + data.n_items
    train = data.train_matrix()
    ours_graph = FixedSparse(bipartite_adjacency(train))
    users, items = train.coalesce().indices()
    edge_index = torch.cat([torch.stack([users, items + data.n_users]), torch.stack([items + data.n_users, users])], 1)
    normalised, weights = gcn_norm(edge_index, None, n, add_self_loops=False)
    adjacency_t = to_torch_csr_tensor(normalised.flip(0), weights, size=(n, n))
    own_norm, plain = LGConv(normalize=True), LGConv(normalize=False)

    def layer_mean(conv):
        def step(e):
            layers = [e]
            for _ in range(LAYERS):
                layers.append(conv(layers[-1]))
            return torch.stack(layers).mean(0)
        return step

    variants = {
        "ours_fixed_sparse_csr": lambda e: lightgcn_propagate(ours_graph, e, LAYERS),
        "pyg_lgconv_normalize": layer_mean(lambda x: own_norm(x, edge_index)),
        "pyg_lgconv_edge_weights": layer_mean(lambda x: plain(x, normalised, weights)),
        "pyg_lgconv_csr_adjacency": layer_mean(lambda x: plain(x, adjacency_t)),
    }
    embeddings = torch.randn(n, DIM, requires_grad=True)
    reference = variants["ours_fixed_sparse_csr"](embeddings).detach()
    figures = {}
    for name, step in variants.items():
        difference = float((step(embeddings).detach() - reference).abs().max())
        figures[f"{name}_ms"] = {"value": round(cpu_ms(step, embeddings), 2), "unit": "CPU ms / forward+backward",
                                 "note": f"max |difference| from ours {difference:.1e}"}
    write_json(RESULTS, {"figures": figures, "edges": int(edge_index.shape[1]), "nodes": n, "layers": LAYERS,
                         "dim": DIM, "machine": {"python": platform.python_version(), "threads": 1,
                                                 "torch": torch.__version__}})
    for name, fig in figures.items():
        print(f"{name:<32} {fig['value']:>8} {fig['unit']} ({fig['note']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
