"""BeFA (Fan et al., AAAI 2025, arXiv 2406.00323): a behaviour-driven feature adapter, not a stand-alone method.

It plugs into a multimodal base model through ``model.befa: true`` (VBPR, LightGCN with features, MGCN; see
lightning_modules/layers/rec_content.py), so the experiments ``befa-vbpr``, ``befa-lightgcn`` and ``befa-mgcn`` are
YAMLs with ``method:`` set to the base model. This package therefore declares no METHOD; it holds the adapter
(:mod:`.adapter`) and the attribution analysis of content features (:mod:`.attribution`) that the
recommendation task runs for every content-using model, with and without the adapter.

Nothing is imported here: the registry reads every package's ``__init__`` to list methods, and that must stay
free of torch (import :mod:`lightning_modules.befa.adapter` directly).
"""
