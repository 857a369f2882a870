"""The experiment runner: configs, registry, tracking, tasks and the `affect` command line (the top layer)."""
