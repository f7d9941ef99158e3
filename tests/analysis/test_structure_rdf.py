"""Partial RDFs, coordination shells and cell series: known answers and invariances."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk

from ssestudio.analysis.structure import (
    compute_cell_series,
    compute_rdf,
    find_shells,
    first_peak_and_minimum,
    lattice_parameters,
    perpendicular_widths_A,
)
from ssestudio.core.errors import UserInputError


def ideal_gas(n=1000, box=30.0, seed=0, symbols=None):
    rng = np.random.default_rng(seed)
    symbols = symbols or ["Li"] * (n // 2) + ["S"] * (n - n // 2)
    return Atoms(symbols=symbols, positions=rng.random((n, 3)) * box, cell=[box] * 3, pbc=True)


def test_ideal_gas_gives_g_of_one():
    frames = [ideal_gas(seed=s) for s in range(3)]
    rdf = compute_rdf(frames, rmax_A=14.0, dr_A=0.25)
    far = rdf.r_A > 2.0
    for a, b in rdf.pairs:
        assert abs(np.mean(rdf.partial(a, b)[far]) - 1.0) < 0.01
    assert np.max(np.abs(rdf.g_total[far] - 1.0)) < 0.08
    # running coordination of a uniform gas: n(r) = rho_b 4/3 pi r^3
    n = rdf.coordination_at("Li", "S", 10.0)
    assert n == pytest.approx(500 / 30.0 ** 3 * 4 / 3 * np.pi * 1000, rel=0.03)


@pytest.mark.parametrize("lattice, a, shells", [("fcc", 3.615, [(12, 1 / np.sqrt(2)), (6, 1.0)]),
                                                ("bcc", 3.51, [(8, np.sqrt(3) / 2), (6, 1.0)])])
def test_cubic_crystal_shells(lattice, a, shells):
    symbol = "Cu" if lattice == "fcc" else "Li"
    atoms = bulk(symbol, lattice, a=a, cubic=True).repeat((4, 4, 4))
    rdf = compute_rdf(atoms, rmax_A=6.0, dr_A=0.01)
    shell = find_shells(rdf)[f"{symbol}-{symbol}"]
    (n1, d1), (n2, d2) = shells
    assert shell.first_peak_A == pytest.approx(d1 * a, abs=0.01)
    assert shell.coordination == pytest.approx(n1)
    assert d1 * a < shell.first_min_A < d2 * a
    between = 0.5 * (d2 + np.sqrt(2)) * a          # between the 2nd shell and the 3rd (a sqrt 2)
    assert rdf.coordination_at(symbol, symbol, between) == pytest.approx(n1 + n2)


def sheared(atoms: Atoms) -> Atoms:
    """The same periodic system in a triclinic cell a, b + a, c + a + b (atoms wrapped)."""
    a, b, c = atoms.cell[:]
    out = atoms.copy()
    out.set_cell([a, b + a, c + a + b], scale_atoms=False)
    out.wrap()
    return out


def test_triclinic_cell_gives_the_same_rdf():
    cubic = ideal_gas(n=400, box=16.0, seed=3)
    tri = sheared(cubic)
    assert not np.allclose(tri.cell.angles(), 90)
    rmax = 0.5 * perpendicular_widths_A(tri.cell[:]).min()    # the sheared cell is thinner
    assert rmax < 0.5 * perpendicular_widths_A(cubic.cell[:]).min() == pytest.approx(8.0)
    g1, g2 = compute_rdf(cubic, rmax_A=rmax, dr_A=0.05), compute_rdf(tri, rmax_A=rmax, dr_A=0.05)
    np.testing.assert_allclose(g1.g, g2.g, atol=1e-9)
    # a primitive (triclinic) fcc cell against the cubic supercell of the same crystal
    prim = bulk("Cu", "fcc", a=3.615).repeat((7, 7, 7))
    conv = bulk("Cu", "fcc", a=3.615, cubic=True).repeat((4, 4, 4))
    r_p, r_c = compute_rdf(prim, rmax_A=6.0, dr_A=0.01), compute_rdf(conv, rmax_A=6.0, dr_A=0.01)
    np.testing.assert_allclose(r_p.g, r_c.g, atol=1e-6)


def npt_frames(n=3):
    base = ideal_gas(n=300, box=14.0, seed=5)
    frames = []
    for k, s in enumerate(np.linspace(0.97, 1.04, n)):
        atoms = base.copy()
        atoms.positions += np.random.default_rng(k).normal(scale=0.3, size=atoms.positions.shape)
        atoms.set_cell(atoms.cell[:] * s, scale_atoms=True)
        frames.append(atoms)
    return frames


def test_trajectory_average_equals_mean_of_frames():
    frames = npt_frames()
    avg = compute_rdf(frames, rmax_A=6.5, dr_A=0.1)
    singles = [compute_rdf(f, rmax_A=6.5, dr_A=0.1) for f in frames]
    np.testing.assert_allclose(avg.g, np.mean([s.g for s in singles], axis=0), rtol=1e-12)
    np.testing.assert_allclose(avg.coordination, np.mean([s.coordination for s in singles], axis=0))
    assert avg.n_frames == 3
    cells = compute_cell_series(frames)
    assert cells.density_mean_g_cm3 == pytest.approx(np.mean(
        [compute_cell_series(f).density_mean_g_cm3 for f in frames]))
    # frame selection
    sub = compute_rdf(frames, rmax_A=6.5, dr_A=0.1, start=1, stride=2)
    np.testing.assert_allclose(sub.g, singles[1].g)
    assert list(sub.frames) == [1]


def test_first_peak_and_minimum_of_a_smooth_curve():
    r = np.linspace(0.01, 8, 800)
    g = 1 + 2 * np.exp(-((r - 2.5) / 0.2) ** 2) - 0.6 * np.exp(-((r - 3.4) / 0.3) ** 2)
    g[r < 1.8] = 0
    peak, height, minimum, depth = first_peak_and_minimum(r, g)
    assert peak == pytest.approx(2.5, abs=0.03) and height > 2.5
    assert minimum == pytest.approx(3.4, abs=0.1) and depth < 0.6
    assert first_peak_and_minimum(r, np.zeros_like(r)) == (None, None, None, None)


def test_given_cutoff_replaces_the_minimum():
    atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat((4, 4, 4))
    rdf = compute_rdf(atoms, rmax_A=6.0, dr_A=0.01)
    shell = find_shells(rdf, cutoffs_A={"Cu-Cu": 4.0})["Cu-Cu"]
    assert shell.cutoff_given and shell.coordination == pytest.approx(18)


def test_cell_series_lattice_density_and_temperature():
    frames = npt_frames(4)
    series = compute_cell_series(frames, temperatures_K=[300, 310, 600, 620])
    assert series.lattice.shape == (4, 6)
    np.testing.assert_allclose(series.lattice[:, 3:], 90.0)
    mass = frames[0].get_masses().sum()
    assert series.density_g_cm3[0] == pytest.approx(mass / frames[0].get_volume() * 1.66053906660)
    binned = series.versus_temperature(bin_width_K=50)
    assert list(binned["n_frames"]) == [2, 2]
    assert binned["temperature_K"][0] == pytest.approx(305)
    with pytest.raises(UserInputError, match="one per frame"):
        compute_cell_series(frames, temperatures_K=[300, 310])
    tri = lattice_parameters(sheared(frames[0]).cell[:])
    assert tri[0] == pytest.approx(14.0 * 0.97) and tri[5] == pytest.approx(45.0)


def test_bad_input_gives_clear_errors():
    atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat((2, 2, 2))   # width 7.23 Å
    with pytest.raises(UserInputError, match=r"more than half the smallest perpendicular cell "
                                             r"width \(7\.230 Å.*rmax_A <= 3\.615"):
        compute_rdf(atoms, rmax_A=5.0)
    with pytest.raises(UserInputError, match="holds no frame"):
        compute_rdf([atoms, atoms], start=5)
    with pytest.raises(UserInputError, match="stride must be >= 1"):
        compute_rdf(atoms, stride=0)
    rdf = compute_rdf(atoms, rmax_A=3.6)
    with pytest.raises(UserInputError, match="Xx' is not a chemical symbol"):
        rdf.partial("Cu-Xx")
    with pytest.raises(UserInputError, match="S is not in this structure; it holds Cu"):
        rdf.partial("Cu", "S")
    cluster = atoms.copy()
    cluster.pbc = False
    with pytest.raises(UserInputError, match="periodic in all three directions"):
        compute_rdf(cluster)
    with pytest.raises(UserInputError, match="does not exist"):
        compute_rdf("no/such/file.cif")
