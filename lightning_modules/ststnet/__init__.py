from lightning_modules.spec import MethodSpec

METHOD = MethodSpec(
    name="ststnet",
    task="mer",
    module="lightning_modules.ststnet.module",
    cls="STSTNetModule",
    inputs=("image28",),
    paper="Liong et al., Shallow Triple Stream Three-dimensional CNN (STSTNet) for Micro-expression "
    "Recognition, FG 2019",
    summary="baseline: three shallow conv streams on the 28x28 (u, v, optical strain) onset->apex image",
    faithfulness="The published architecture on the published input (TV-L1 onset->apex flow, optical strain, "
    "28x28). Training differs: Adam at lr 5e-3 for 40 epochs on CPU instead of 5e-5 for 500 on GPU, and batch "
    "norm after each convolution (knobs in experiments/_defaults/methods/ststnet.yaml).",
    defaults_chosen="Not recorded how: lr 5e-3 and 40 epochs (the paper's Adam 5e-5 for 500 GPU epochs) were set so "
    "that training reaches a plateau on CPU on the stand-ins (ststnet.yaml), with no validation split and no record of "
    "the runs that showed it; batch 64 has no stated source. Fixed a priori: batch norm after each convolution, as "
    "common PyTorch re-implementations do.",
)
