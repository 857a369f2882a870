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


def test_closed_form_fits_train_one_epoch_under_every_profile(project):
    """The linear SVM methods fit exactly in one step: a profile that sets epochs for every method (quick: 5) must
    not make them repeat that fit (it once did: 5 identical fits per fold in the quick pipeline)."""
    named = [e for e in experiment_ids() if e.startswith(("lbptop_svm", "lbp_sdg"))]  # variants: lbp_sdg-all/...
    closed_form = [e for e in named if load_experiment(e).method in ("lbptop_svm", "lbp_sdg")]
    assert "lbp_sdg/composite" in closed_form and "lbptop_svm/casme2" in closed_form
    for exp in closed_form:
        for profile in ("default", "quick"):
            assert load_experiment(exp, profile=profile).trainer.max_epochs == 1, (exp, profile)


def test_a_closed_form_fit_refuses_more_than_one_epoch(project):
    from processed_fixture import write_processed

    from experiments.runner import train

    write_processed(project, subjects=2, clips=3)
    with pytest.raises(ConfigError, match="trainer.max_epochs=2: the linear SVM"):
        train("lbptop_svm/casme2", ["trainer.max_epochs=2", "protocol.max_folds=1"])


def test_a_run_of_the_first_folds_says_how_many_folds_its_protocol_has(project):
    """protocol.max_folds runs only the first folds (smoke and timing runs): the run records the protocol's full
    fold count beside the folds it ran, so a timing run can be scaled to the whole protocol."""
    from processed_fixture import write_processed

    from core.results import read_run_metrics
    from experiments.runner import train

    write_processed(project, subjects=3, clips=2)
    train("lbptop_svm/casme2", ["protocol.max_folds=1"])
    details = read_run_metrics(project / "results" / "lbptop_svm" / "casme2")
    assert details["n_folds"] == 1 and details["n_folds_of_protocol"] == 3  # LOSO over 3 subjects
    train("lbptop_svm/casme2", [])
    assert "n_folds_of_protocol" not in read_run_metrics(project / "results" / "lbptop_svm" / "casme2")
