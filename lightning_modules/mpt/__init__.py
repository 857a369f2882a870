"""MPT (Motion Prompt Tuning for micro-expression recognition): network.py (motion prompts by Gaussian tokenization,
group adapters, the timm ViT and its local checkpoint), module.py (the LightningModule; its docstring says what
follows the abstract and what is a choice)."""

from lightning_modules.spec import MethodSpec

RANDOM_INIT = "randomly initialised ViT: not MPT's published condition (no model.checkpoint)"


def run_condition(cfg) -> str:
    """The backbone condition of a run, put first in its faithfulness note (run.json, the report)."""
    model = cfg.get("model", {}) if hasattr(cfg, "get") else {}
    checkpoint = model.get("checkpoint") if hasattr(model, "get") else None
    if not checkpoint:
        return RANDOM_INIT
    return f"ViT weights from model.checkpoint={checkpoint} ({model.get('checkpoint_format', 'timm')} format)"


METHOD = MethodSpec(
    name="mpt",
    task="mer",
    module="lightning_modules.mpt.module",
    cls="MPTModule",
    inputs=("apex", "image28"),
    paper="Liu, Shi, Chen et al., MPT: Motion Prompt Tuning for Micro-Expression Recognition, 2025",
    summary="a ViT on the apex frame with Gaussian-tokenised motion prompts from the magnified onset->apex flow and "
    "a group adapter after every block",
    faithfulness="Built from the abstract only: motion prompts (motion magnification + Gaussian tokenization) "
    "inserted into a large pretrained model, and a group adapter inserted into it. The motion source (the flow "
    "stage's (u, v, strain) image scaled by a gain, not magnified frames), the Gaussian pooling, the adapter form "
    "and every size are our choices (lightning_modules/mpt/module.py, model.* knobs). No pretrained weights can be "
    "downloaded here: unless model.checkpoint names a local timm or open_clip file, the ViT (dim 96, depth 4, 28 px "
    "input) is randomly initialised and trained end to end, which is not MPT's published condition (a large "
    "pretrained model adapted by prompt tuning).",
    defaults_chosen="Fixed a priori, never tuned on test folds: ViT dim 96, depth 4, 4 heads, 4 px patches on a 28 px "
    "input (the flow image's size), 8 Gaussian prompts, adapter 32 units in 4 groups, motion gain 10 (the suite's "
    "Euler magnification alpha), Adam lr 1e-3, batch 64, last epoch (no model selection); with a "
    "checkpoint the backbone is frozen (prompt tuning). The epoch budget, 100, was chosen on inner validation on "
    "training subjects (benchmarks/results/mpt.json inner_direct; test subjects never loaded): the a-priori 30 "
    "left the random-init ViT at the class prior (held-out UF1 .267, the split's majority floor), 100 gave .412; "
    "only these two were tried.",
)
