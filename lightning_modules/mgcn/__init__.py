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
    faithfulness="The raw content features are frozen (the authors' code fine-tunes them), and the InfoNCE weight "
    "defaults to 0.01 from the paper's grid: select it on validation with `affect tune`.",
)
