"""S(q) (Faber-Ziman, neutron and X-ray weights) and simulated powder XRD."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from ssestudio.analysis.structure import (
    NEUTRON_SCATTERING_LENGTHS_FM,
    XRDSettings,
    compute_rdf,
    compute_structure_factor,
    neutron_scattering_length_fm,
    simulate_xrd,
    xray_form_factor,
    xrd_from_rdf,
)
from ssestudio.analysis.structure.scattering import form_factor_source
from ssestudio.core.errors import UserInputError

CU_A = 3.615
LAMBDA = 1.5406


def bragg_two_theta(hkl, a=CU_A, wavelength=LAMBDA):
    d = a / np.sqrt(sum(h * h for h in hkl))
    return 2 * np.degrees(np.arcsin(wavelength / (2 * d)))


@pytest.fixture(scope="module")
def ideal_gas_rdf():
    rng = np.random.default_rng(11)
    frames = [Atoms(symbols=["Li"] * 300 + ["P"] * 100 + ["S"] * 400,
                    positions=rng.random((800, 3)) * 28.0, cell=[28.0] * 3, pbc=True)
              for _ in range(3)]
    return compute_rdf(frames, rmax_A=13.9, dr_A=0.05)


@pytest.mark.parametrize("weighting", ["neutron", "xray", "number"])
def test_ideal_gas_gives_S_of_one(ideal_gas_rdf, weighting):
    sq = compute_structure_factor(ideal_gas_rdf, weighting=weighting)
    far = sq.q_inv_A > 2.0
    assert np.mean(np.abs(sq.S[far] - 1.0)) < 0.05
    assert abs(np.mean(sq.g_weighted[ideal_gas_rdf.r_A > 2] - 1.0)) < 0.02


def test_crystal_S_of_q_peaks_line_up_with_reflections():
    atoms = bulk("Cu", "fcc", a=CU_A, cubic=True).repeat((8, 8, 8))
    atoms.positions += np.random.default_rng(0).normal(scale=0.05, size=atoms.positions.shape)
    rdf = compute_rdf(atoms, rmax_A=14.0, dr_A=0.01)
    sq = compute_structure_factor(rdf, weighting="xray", q_inv_A=np.linspace(0.5, 8, 1500))
    allowed = sorted({2 * np.pi / CU_A * np.sqrt(h * h + k * k + l * l)
                      for h, k, l in itertools.product(range(4), repeat=3)
                      if h % 2 == k % 2 == l % 2 and h + k + l > 0})
    peaks = [p["q_inv_A"] for p in sq.peaks(n=10) if p["q_inv_A"] < 6.0 and p["S"] > 1.5]
    assert len(peaks) == 4
    for q in peaks:          # (111), (200), (220), (311)/(222)
        assert min(abs(q - a) for a in allowed) < 0.05
    assert peaks[0] == pytest.approx(allowed[0], abs=0.03)
    assert sq.window == "lorch" and sq.q_resolution_inv_A == pytest.approx(2 * np.pi / 14.0)


def test_scattering_data():
    assert neutron_scattering_length_fm("Li") == pytest.approx(-1.90)
    assert neutron_scattering_length_fm("S") == pytest.approx(2.847)
    assert neutron_scattering_length_fm("Xe", {"Xe": 4.92}) == 4.92
    with pytest.raises(UserInputError, match="no neutron scattering length for Xe"):
        neutron_scattering_length_fm("Xe")
    needed = ["Li", "B", "C", "N", "O", "F", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "K", "Ca", "Ge", "Br", "Y", "Zr", "Nb", "Sn", "I", "La", "Ta", "H"]
    assert set(needed) <= set(NEUTRON_SCATTERING_LENGTHS_FM)
    for el, z in (("S", 16), ("P", 15), ("O", 8), ("Cl", 17)):     # Waasmaier-Kirfel from ASE
        assert xray_form_factor(el, 0.0) == pytest.approx(z, abs=0.01)
        assert form_factor_source(el) == "Waasmaier-Kirfel (ASE)"
    f = xray_form_factor("S", np.array([0.0, 4 * np.pi * 0.5]))     # s = sin(theta)/lambda = 0.5
    assert f[1] == pytest.approx(7.0, abs=0.1)


def test_null_scattering_composition_is_refused(ideal_gas_rdf):
    with pytest.raises(UserInputError, match="null-scattering"):
        compute_structure_factor(ideal_gas_rdf,   # 0.375 x -1.9 + 0.5 x 1.425 = 0
                                 scattering_lengths_fm={"Li": -1.9, "P": 0.0, "S": 1.425})
    with pytest.raises(UserInputError, match="weighting must be"):
        compute_structure_factor(ideal_gas_rdf, weighting="electron")
    with pytest.raises(UserInputError, match="q_inv_A must be positive"):
        compute_structure_factor(ideal_gas_rdf, q_inv_A=[0.0, 1.0])


def test_fcc_copper_xrd_follows_bragg():
    pattern = simulate_xrd(bulk("Cu", "fcc", a=CU_A, cubic=True), step_deg=0.005,
                           two_theta_min_deg=20, two_theta_max_deg=100)
    lines = {tuple(p["hkl"]): p for p in pattern.strongest(20)}
    for hkl in ((1, 1, 1), (2, 0, 0), (2, 2, 0), (3, 1, 1)):
        assert lines[hkl]["two_theta_deg"] == pytest.approx(bragg_two_theta(hkl), abs=1e-6)
    assert lines[(1, 1, 1)]["multiplicity"] == 8 and lines[(2, 0, 0)]["multiplicity"] == 6
    assert lines[(1, 1, 1)]["intensity"] == 100.0 and lines[(2, 0, 0)]["intensity"] < 60
    for hkl in ((1, 0, 0), (1, 1, 0), (2, 1, 0)):                   # fcc extinctions
        assert hkl not in lines
    assert not np.any(np.abs(pattern.peak_two_theta_deg - bragg_two_theta((1, 0, 0))) < 0.5)
    # broadened pattern: maxima at the Bragg angles to within the grid step
    tt, y = pattern.two_theta_deg, pattern.intensity
    near = np.abs(tt - bragg_two_theta((1, 1, 1))) < 1.0
    assert tt[near][np.argmax(y[near])] == pytest.approx(43.317, abs=0.01)
    near = np.abs(tt - bragg_two_theta((2, 0, 0))) < 1.0
    assert tt[near][np.argmax(y[near])] == pytest.approx(bragg_two_theta((2, 0, 0)), abs=0.01)


def test_supercell_and_profiles_keep_peak_positions():
    cell = bulk("Cu", "fcc", a=CU_A, cubic=True)
    a = simulate_xrd(cell, profile="pseudo-voigt", eta=0.3)
    b = simulate_xrd(cell.repeat((2, 1, 1)), caglioti_uvw_deg2=(0.01, -0.005, 0.01))
    np.testing.assert_allclose(a.peak_two_theta_deg, b.peak_two_theta_deg, atol=1e-9)
    np.testing.assert_allclose(a.peak_intensity, b.peak_intensity, rtol=1e-9)
    with pytest.raises(UserInputError, match="two-theta range"):
        simulate_xrd(cell, two_theta_min_deg=50, two_theta_max_deg=40)
    with pytest.raises(UserInputError, match="profile must be"):
        simulate_xrd(cell, profile="voigt")


def test_xrd_matches_pymatgen_for_li2s():
    pytest.importorskip("pymatgen")
    from pymatgen.analysis.diffraction.xrd import XRDCalculator
    from pymatgen.io.ase import AseAtomsAdaptor

    from ssestudio.data.library import build_structure

    atoms = build_structure("li2s")
    ref = XRDCalculator(wavelength=LAMBDA).get_pattern(AseAtomsAdaptor.get_structure(atoms),
                                                       two_theta_range=(10, 80))
    ours = simulate_xrd(atoms)
    np.testing.assert_allclose(ours.peak_two_theta_deg, ref.x, atol=1e-4)
    np.testing.assert_allclose(ours.peak_intensity, ref.y, atol=0.5)


def test_glass_pattern_from_rdf(ideal_gas_rdf):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # every element has a form factor
        pattern = xrd_from_rdf(ideal_gas_rdf, XRDSettings(two_theta_min_deg=5))
    assert pattern.method == "debye" and pattern.peak_two_theta_deg.size == 0
    # a random gas scatters like independent atoms: <f^2>(q), falling off at high angle
    tt, y = pattern.two_theta_deg, pattern.intensity
    assert y.max() == pytest.approx(100) and np.all(np.diff(y[tt > 40][::50]) < 0)
