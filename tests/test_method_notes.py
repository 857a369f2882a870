"""Every method says how the defaults its paper does not give were chosen (the report's Methods table)."""

import pytest

from experiments import registry


@pytest.mark.parametrize("name", sorted(registry.methods()))
def test_every_method_states_how_its_defaults_were_chosen(name):
    note = registry.method(name).defaults_chosen
    assert note.strip(), f"{name}: MethodSpec(defaults_chosen=...) is empty (the report would say 'not stated')"


def test_the_registry_lists_every_method_package():
    """A method whose package stopped declaring METHOD would drop out of the check above unnoticed."""
    assert {"ststnet", "lbptop_svm", "lbp_sdg", "geograph", "dere_grl", "micro_au_clip", "masked_decoupling",
            "fgsgl", "skeleton_ce", "vbpr", "lightgcn", "mgcn", "ld4mrec"} <= set(registry.methods())
