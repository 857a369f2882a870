"""MGCN: Multi-View Graph Convolutional Network for multimedia recommendation (Yu et al., ACM MM 2023)."""

from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="mgcn",
    task="rec",
    module="lightning_modules.mgcn.module",
    cls="MGCNModule",
    inputs=("user", "pos", "neg"),
    paper="Yu et al., Multi-View Graph Convolutional Network for Multimedia Recommendation, ACM MM 2023",
    summary="Behaviour-purified modality features in user-item and item-item views, a behaviour-aware fuser and "
    "an InfoNCE auxiliary task",
    extra={"train_batches": "bpr"},
    faithfulness="Matches the authors' code (github.com/demonph10/MGCN) in the purifier, views, fuser, InfoNCE "
    "(tau 0.2, users and positive items), squared L2 on the batch's final embeddings, similarity-weighted kNN "
    "graphs and the lr decay 0.96 ** (epoch / 50). Remaining differences: the raw content features are frozen "
    "(the authors' code fine-tunes them; model.train_features=true does too); negatives are drawn from all "
    "items, not only those seen in training; an all-zero feature vector gets similarity 0 (NaN in the "
    "authors' code); the InfoNCE weight defaults to 0.01 from the paper's grid (select it on validation with "
    "`affect tune`); early-stopping patience and evaluation interval are per-dataset knobs (the authors stop "
    "after 10 epochs without a better validation Recall@20).",
)
