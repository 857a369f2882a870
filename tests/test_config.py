import pytest

from core.errors import ConfigError
from experiments.config import experiment_ids, load_experiment


def test_every_experiment_resolves(project):
    ids = experiment_ids()
    assert "ststnet/casme2" in ids
    for exp in ids:
        cfg = load_experiment(exp)
        assert cfg.experiment == exp and cfg.method and cfg.task


def test_layers_and_profiles(project):
    default = load_experiment("ststnet/casme2")
    quick = load_experiment("ststnet/casme2", profile="quick")
    assert default.trainer.max_epochs == 40  # method default beats global default
    assert quick.trainer.max_epochs == 15  # method's quick profile beats the global quick profile
    assert load_experiment("ststnet/casme2", ["trainer.max_epochs=3"]).trainer.max_epochs == 3


def test_typos_and_types_are_errors(project):
    with pytest.raises(ConfigError, match="did you mean model.dropout"):
        load_experiment("ststnet/casme2", ["model.dropuot=0.1"])
    with pytest.raises(ConfigError, match="true/false"):
        load_experiment("ststnet/casme2", ["model.batch_norm=3"])
    with pytest.raises(ConfigError, match="key=value"):
        load_experiment("ststnet/casme2", ["trainer.max_epochs"])
