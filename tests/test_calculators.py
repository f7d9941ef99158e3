"""The calculator registry: built-ins, import paths, caching and clear errors."""

import importlib.util

import numpy as np
import pytest
from ase.build import bulk

from ssestudio.calculators import (CalculatorUnavailableError, available_calculators,
                                   check_calculator, clear_calculator_cache, get_calculator,
                                   register_calculator)
from ssestudio.calculators import registry
from ssestudio.core.errors import UserInputError


@pytest.fixture
def scratch_registry(monkeypatch):
    """Register test-only calculators without leaking them into other tests."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry, "_CACHE", {})
    available_calculators()  # built-ins loaded into the copy


def _energy(calc):
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces()


def test_builtin_classical_calculators():
    energy, forces = _energy(get_calculator("emt"))
    assert np.isfinite(energy) and forces.shape == (4, 3)
    lj_small, _ = _energy(get_calculator("lj", sigma=2.0, epsilon=0.1, rc=6.0))
    lj_big, _ = _energy(get_calculator("lj", sigma=2.3, epsilon=0.1, rc=6.0))
    assert lj_small != lj_big
    assert get_calculator("emt") is not get_calculator("emt")  # cheap ones are not cached


def test_listing_checks_availability_without_importing():
    infos = {i.name: i for i in available_calculators()}
    assert {"emt", "lj", "sevenn", "chgnet"} <= set(infos)
    assert infos["emt"].available and infos["emt"].missing == ()
    for name in ("sevenn", "chgnet"):
        assert infos[name].available == (importlib.util.find_spec(name) is not None
                                         and importlib.util.find_spec("torch") is not None)
    installed = {i.name for i in available_calculators(installed_only=True)}
    assert "emt" in installed and all(infos[n].available for n in installed)


def test_unknown_name_lists_registered_ones():
    with pytest.raises(UserInputError, match=r"unknown calculator 'mace'; registered "
                                             r"calculators: chgnet, emt, lj, model, sevenn"):
        get_calculator("mace")
    with pytest.raises(UserInputError, match="non-empty string"):
        get_calculator("")


def test_bad_options_name_the_accepted_ones():
    with pytest.raises(UserInputError, match=r"'lj' does not accept options \['sigmaa'\].*"
                                             r"sigma, epsilon, rc, ro, smooth"):
        get_calculator("lj", sigmaa=2.0)


@pytest.mark.skipif(importlib.util.find_spec("sevenn") is not None, reason="sevenn installed")
def test_missing_sevenn_says_how_to_install():
    with pytest.raises(CalculatorUnavailableError,
                       match=r"`sevenn` is not installed: pip install sevenn \(with "
                             r"torch==2.13.0 installed first\)"):
        get_calculator("sevenn")


def test_missing_optional_package_message(scratch_registry):
    @register_calculator("needs-pkg", requires={"ssestudio_no_such_pkg": "pip install nsp"})
    def factory():
        raise AssertionError("must not be called")

    info = {i.name: i for i in available_calculators()}["needs-pkg"]
    assert not info.available and info.missing == ("ssestudio_no_such_pkg",)
    with pytest.raises(CalculatorUnavailableError,
                       match="`ssestudio_no_such_pkg` is not installed: pip install nsp"):
        check_calculator("needs-pkg")


def test_expensive_calculators_are_cached_per_options(scratch_registry):
    built = []

    @register_calculator("costly", cache=True)
    def costly(*, size: int = 1):
        built.append(size)
        return get_calculator("emt")

    first = get_calculator("costly")
    assert get_calculator("costly") is first and built == [1]
    assert get_calculator("costly", size=2) is not first and built == [1, 2]
    clear_calculator_cache()
    assert get_calculator("costly") is not first and built == [1, 2, 1]


def test_import_paths():
    calc = get_calculator("ase.calculators.lj:LennardJones", sigma=2.3, rc=6.0)
    assert type(calc).__name__ == "LennardJones" and calc.parameters["sigma"] == 2.3
    with pytest.raises(CalculatorUnavailableError, match="`no_such_mod_xyz` is not installed"):
        get_calculator("no_such_mod_xyz.sub:Calc")
    with pytest.raises(UserInputError, match="has no attribute 'Nope'"):
        get_calculator("ase.calculators.emt:Nope")
    with pytest.raises(UserInputError, match="is not an ASE calculator"):
        get_calculator("collections:OrderedDict")
    with pytest.raises(UserInputError, match="must look like 'module.path:ClassName'"):
        get_calculator("ase.calculators.emt:")


def test_register_rejects_colon_names():
    with pytest.raises(ValueError, match="contain no ':'"):
        register_calculator("a:b")


@pytest.mark.skipif(importlib.util.find_spec("sevenn") is None, reason="sevenn not installed")
def test_sevenn_offline_model_gives_energies_and_forces():
    from ase import Atoms

    atoms = Atoms("Li2S", positions=[[0, 0, 0], [2.5, 0, 0], [1.25, 1.6, 0]],
                  cell=[6, 6, 6], pbc=True)
    atoms.calc = get_calculator("sevenn")
    assert np.isfinite(atoms.get_potential_energy())
    assert atoms.get_forces().shape == (3, 3)
    assert get_calculator("sevenn") is atoms.calc  # the model is loaded once per process
