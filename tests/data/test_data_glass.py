"""Glass starting points: composition parsing, exact stoichiometry and density, minimum
distances, rigid network units, reproducibility and clear errors for impossible requests."""

import time

import numpy as np
import pytest
from ase.data import atomic_masses, atomic_numbers
from ase.formula import Formula

from ssestudio.core.errors import UserInputError
from ssestudio.data.glass import (
    default_min_distance,
    estimate_density,
    parse_composition,
    random_glass,
)


def _density(atoms) -> float:
    return atoms.get_masses().sum() / 6.02214076e23 / (atoms.get_volume() * 1e-24)


def _counts(atoms) -> dict[str, int]:
    symbols = atoms.get_chemical_symbols()
    return {el: symbols.count(el) for el in set(symbols)}


def _violations(atoms) -> list[str]:
    """Pairs closer than the recorded minimum distance, except pairs inside one rigid unit."""
    limits = atoms.info["provenance"]["generators"][0]["params"]["min_distances"]
    unit = atoms.arrays["glass_unit"]
    d = atoms.get_all_distances(mic=True)
    symbols = atoms.get_chemical_symbols()
    bad = []
    for i, j in zip(*np.triu_indices(len(atoms), k=1)):
        if unit[i] >= 0 and unit[i] == unit[j]:
            continue
        limit = limits["-".join(sorted((symbols[i], symbols[j])))]
        if d[i, j] < limit:
            bad.append(f"{symbols[i]}-{symbols[j]} {d[i, j]:.3f} < {limit}")
    return bad


@pytest.fixture(scope="module")
def lps_molecular():
    return random_glass("75Li2S-25P2S5", n_atoms=128, seed=3)


@pytest.mark.parametrize("text, fractions, counts", [
    ("75Li2S-25P2S5", {"Li2S": 0.75, "P2S5": 0.25}, {"Li": 3, "P": 1, "S": 4}),
    ("70Li2S-30P2S5", {"Li2S": 0.7, "P2S5": 0.3}, {"Li": 7, "P": 3, "S": 11}),
    ("60Li2S-40SiS2", {"Li2S": 0.6, "SiS2": 0.4}, {"Li": 6, "Si": 2, "S": 7}),
    ("30LiI-70Li3PS4", {"LiI": 0.3, "Li3PS4": 0.7}, {"Li": 24, "I": 3, "P": 7, "S": 28}),
    ("67Li2S-33P2S5", {"Li2S": 0.67, "P2S5": 0.33}, {"Li": 67, "P": 33, "S": 116}),
    ("0.75Li2S-0.25P2S5", {"Li2S": 0.75, "P2S5": 0.25}, {"Li": 3, "P": 1, "S": 4}),
    ("66.7Li2S - 33.3P2S5", {"Li2S": 0.667, "P2S5": 0.333}, {"Li": 667, "P": 333, "S": 1166}),
    ("45Li2S-30P2S5-25LiI", {"Li2S": 0.45, "P2S5": 0.3, "LiI": 0.25},
     {"Li": 23, "P": 12, "S": 39, "I": 5}),
])
def test_parse_composition(text, fractions, counts):
    comp = parse_composition(text)
    assert dict(comp.fractions) == pytest.approx(fractions)
    assert dict(comp.element_counts) == counts
    assert comp.atoms_per_formula_unit == sum(counts.values())
    assert parse_composition(comp.text) == comp


def test_decimal_and_integer_parts_give_the_same_composition():
    assert parse_composition("0.75Li2S-0.25P2S5").text == "75Li2S-25P2S5"
    assert parse_composition("3Li2S-1P2S5").element_counts == parse_composition(
        "75Li2S-25P2S5").element_counts


@pytest.mark.parametrize("text, match", [
    ("", "non-empty"),
    ("Li2S-P2S5", "mole part"),
    ("75Li2S+25P2S5", "cannot read"),
    ("75Li2S-25Xx2S5", "not an element"),
    ("0Li2S-100P2S5", "> 0"),
    ("75Li2S-25P2S3", "not charge neutral"),
    ("50Li2S-50Li2S", "twice"),
    ("75li2s-25p2s5", "cannot read"),
])
def test_bad_compositions_are_refused(text, match):
    with pytest.raises(UserInputError, match=match):
        parse_composition(text)


def test_default_density_uses_the_measured_value_or_ideal_mixing():
    assert estimate_density("75Li2S-25P2S5") == pytest.approx(1.87)
    molar = {f: sum(atomic_masses[atomic_numbers[el]] * n for el, n in Formula(f).count().items())
             for f in ("Li2S", "P2S5")}
    expected = (0.7 * molar["Li2S"] + 0.3 * molar["P2S5"]) / (
        0.7 * molar["Li2S"] / 1.64 + 0.3 * molar["P2S5"] / 2.09)
    assert estimate_density("70Li2S-30P2S5") == pytest.approx(expected)
    with pytest.raises(UserInputError, match="density_g_cm3"):
        estimate_density("50Li2S-50Li2Se")


def test_default_min_distances_are_physical():
    assert 2.1 < default_min_distance("Li", "S") < 2.4
    assert 2.4 < default_min_distance("S", "S") < 3.0  # above the S-S bond (2.05 Å)
    assert default_min_distance("Li", "P") > default_min_distance("Li", "S")
    assert default_min_distance("S", "P") < 2.05  # P-S bonds are possible in atoms mode


def test_molecular_glass_has_exact_stoichiometry_density_and_rigid_ps4(lps_molecular):
    atoms = lps_molecular
    assert _counts(atoms) == {"Li": 48, "P": 16, "S": 64}
    assert _density(atoms) == pytest.approx(1.87, rel=0.005)
    assert np.allclose(atoms.cell[:], np.eye(3) * atoms.cell[0, 0])
    assert atoms.pbc.all()
    assert not _violations(atoms)
    d = atoms.get_all_distances(mic=True)
    symbols = np.array(atoms.get_chemical_symbols())
    for p in np.flatnonzero(symbols == "P"):
        bonded = np.flatnonzero((d[p] < 2.3) & (symbols == "S"))
        assert len(bonded) == 4
        np.testing.assert_allclose(d[p, bonded], 2.05, atol=1e-6)
    units = atoms.arrays["glass_unit"]
    assert len(set(units[units >= 0])) == 16 and (units[symbols == "Li"] == -1).all()


def test_n_atoms_is_rounded_to_whole_formula_units():
    atoms = random_glass("75Li2S-25P2S5", n_atoms=101, units="atoms", seed=0)
    assert len(atoms) == 104  # 13 x Li3PS4
    with pytest.raises(UserInputError, match="use nearby simple mole parts, e.g. '2Li2S-1P2S5'"):
        random_glass("66.7Li2S-33.3P2S5", n_atoms=200)


def test_corner_sharing_p2s7_units_make_the_sulfur_count_work():
    atoms = random_glass("70Li2S-30P2S5", n_atoms=105, density_g_cm3=1.9, seed=1)
    assert _counts(atoms) == {"Li": 35, "P": 15, "S": 55}
    assert _density(atoms) == pytest.approx(1.9, rel=0.005)
    assert not _violations(atoms)
    d = atoms.get_all_distances(mic=True)
    symbols = np.array(atoms.get_chemical_symbols())
    bridging = [s for s in np.flatnonzero(symbols == "S")
                if ((d[s] < 2.06) & (symbols == "P")).sum() == 2]
    assert len(bridging) == 4 * 15 - 55  # 5 P2S7 units, 5 PS4


def test_three_component_glass_with_free_iodide():
    atoms = random_glass("30LiI-70Li3PS4", n_atoms=55, seed=2)
    assert _counts(atoms) == {"Li": 24, "I": 3, "P": 7, "S": 28}
    assert not _violations(atoms)
    units = atoms.arrays["glass_unit"]
    assert (units[np.array(atoms.get_chemical_symbols()) == "I"] == -1).all()


def test_atoms_mode_respects_min_distances_and_overrides():
    atoms = random_glass("60Li2S-40SiS2", n_atoms=75, units="atoms", seed=4,
                         min_distances={"Li-S": 2.4, ("S", "Si"): 2.0})
    assert _counts(atoms) == {"Li": 30, "Si": 10, "S": 35}
    assert (atoms.arrays["glass_unit"] == -1).all()
    assert not _violations(atoms)
    limits = atoms.info["provenance"]["generators"][0]["params"]["min_distances"]
    assert limits["Li-S"] == 2.4 and limits["S-Si"] == 2.0


def test_same_seed_same_glass_other_seed_other_glass(lps_molecular):
    again = random_glass("75Li2S-25P2S5", n_atoms=128, seed=3)
    np.testing.assert_array_equal(again.positions, lps_molecular.positions)
    assert again.get_chemical_symbols() == lps_molecular.get_chemical_symbols()
    other = random_glass("75Li2S-25P2S5", n_atoms=128, seed=4)
    assert not np.allclose(other.positions, lps_molecular.positions)


def test_provenance_follows_the_conventions(lps_molecular):
    prov = lps_molecular.info["provenance"]
    assert prov["source"] == "glass:75Li2S-25P2S5"
    (step,) = prov["generators"]
    assert step["name"] == "random_glass" and step["seed"] == 3
    assert step["params"]["units"] == "molecular" and step["params"]["n_atoms"] == 128
    assert step["params"]["density_g_cm3"] == pytest.approx(1.87)


def test_too_dense_request_fails_quickly_with_advice():
    start = time.perf_counter()
    with pytest.raises(UserInputError, match="lower density_g_cm3"):
        random_glass("75Li2S-25P2S5", n_atoms=200, density_g_cm3=6.0)
    with pytest.raises(UserInputError, match="lower density_g_cm3"):
        random_glass("75Li2S-25P2S5", n_atoms=64, units="atoms", density_g_cm3=1.87,
                     min_distances={"S-S": 4.2})
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("kwargs, match", [
    ({"units": "ions"}, "units must be"),
    ({"n_atoms": 0}, "n_atoms"),
    ({"density_g_cm3": -1.0}, "density_g_cm3"),
    ({"density_g_cm3": "dense"}, "density_g_cm3"),
    ({"min_distances": {"Li-X": 2.0}}, "min_distances"),
    ({"min_distances": {"Li-S": 0}}, "positive"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(UserInputError, match=match):
        random_glass("75Li2S-25P2S5", **kwargs)


def test_molecular_mode_refuses_what_it_cannot_build():
    with pytest.raises(UserInputError, match="units='atoms'"):
        random_glass("40Li2S-60P2S5", n_atoms=100)  # < 3.5 S per P: chains needed
    atoms = random_glass("40Li2S-60P2S5", n_atoms=100, units="atoms", density_g_cm3=2.0)
    assert _counts(atoms) == {"Li": 16, "P": 24, "S": 68}
