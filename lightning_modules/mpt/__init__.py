"""MPT (motion prompt tuning): network only (lightning_modules/mpt/network.py). Not yet registered as a method:
no METHOD spec, module, method YAML or experiments yet (issue 19, left undone)."""
