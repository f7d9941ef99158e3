"""Network speciation (Q^n, units, bridging/free anions) and bond angles."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from ssestudio.analysis.structure import (
    compute_bond_angles,
    compute_speciation,
    guess_network,
)
from ssestudio.core.errors import UserInputError
from ssestudio.data.library import build_structure

TETRAHEDRAL_DEG = np.degrees(np.arccos(-1 / 3))     # 109.47


@pytest.mark.parametrize("name", ["gamma_li3ps4", "beta_li3ps4"])
def test_li3ps4_is_all_isolated_ps4(name):
    atoms = build_structure(name)
    spec = compute_speciation(atoms)
    assert spec.qn_fraction["Q0"] == 1.0 and spec.unit_fraction_by_former == {"PS4": 1.0}
    assert spec.anion_fraction == {"free": 0.0, "non_bridging": 1.0, "bridging": 0.0}
    assert spec.former_coordination == {"4": 1.0} and spec.homopolar_bonds_per_frame == 0
    angles = compute_bond_angles(atoms, ["S-P-S", "P-S-P"])
    sps = angles["S-P-S"]
    assert sps.n_angles == 6 * spec.n_formers and angles["P-S-P"].n_angles == 0
    assert sps.mean_deg == pytest.approx(TETRAHEDRAL_DEG, abs=3)
    assert sps.peak_deg == pytest.approx(TETRAHEDRAL_DEG, abs=3)
    assert np.all(np.abs(sps.angle_deg[sps.counts > 0] - TETRAHEDRAL_DEG) < 5)
    assert np.sum(sps.probability_per_deg) * 1.0 == pytest.approx(1.0)


def test_li7p3s11_has_p2s7_and_ps4():
    atoms = build_structure("li7p3s11")
    spec = compute_speciation(atoms, former="P", anion="S")
    assert spec.qn_fraction["Q1"] == pytest.approx(2 / 3)
    assert spec.qn_fraction["Q0"] == pytest.approx(1 / 3)
    assert spec.unit_fraction_by_former == pytest.approx({"P2S7": 2 / 3, "PS4": 1 / 3})
    assert spec.unit_fraction_by_unit == pytest.approx({"P2S7": 0.5, "PS4": 0.5})
    assert spec.anion_fraction["bridging"] == pytest.approx(1 / 11)
    assert spec.anion_fraction["free"] == 0.0
    psp = compute_bond_angles(atoms, "P-S-P")["P-S-P"]
    assert psp.n_angles == 2 and 100 < psp.mean_deg < 130       # one per P2S7 (2 in the cell)


def test_li2s_has_only_free_sulfur():
    spec = compute_speciation(build_structure("li2s"), former="P", anion="S")
    assert spec.anion_fraction == {"free": 1.0, "non_bridging": 0.0, "bridging": 0.0}
    assert spec.free_anions_per_frame == 4 and spec.n_formers == 0
    assert spec.warnings == ("former P is not in this structure (Li, S)",)
    assert guess_network(build_structure("li2s").get_chemical_symbols()) is None


def _tetrahedron(centre, bond, rotate=0.0):
    v = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
    c, s = np.cos(rotate), np.sin(rotate)
    v = v @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]).T
    return centre + bond * v


def in_box(symbols, positions, box=20.0):
    return Atoms(symbols=symbols, positions=np.asarray(positions) + box / 2, cell=[box] * 3,
                 pbc=True)


def p2s6_pp():
    """Staggered P2S6 4-: P-P 2.22 Å along z, three S on each P at 2.04 Å."""
    p = np.array([[0, 0, 1.11], [0, 0, -1.11]])
    s = []
    for sign, p_at, phase in ((1, p[0], 0.0), (-1, p[1], np.pi / 3)):
        for k in range(3):
            ang = phase + 2 * np.pi * k / 3
            direction = np.array([np.cos(ang) * np.sin(np.radians(70)),
                                  np.sin(ang) * np.sin(np.radians(70)),
                                  sign * np.cos(np.radians(70))])
            s.append(p_at + 2.04 * direction)
    return in_box(["P", "P"] + ["S"] * 6 + ["Li"] * 4, [*p, *s, *[[5, 5, 5], [-5, 5, 5],
                                                                  [5, -5, 5], [5, 5, -5]]])


def test_synthetic_p2s6_unit_is_detected():
    spec = compute_speciation(p2s6_pp())
    assert spec.unit_fraction_by_former == {"P2S6 (P-P)": 1.0}
    assert spec.homopolar_bonds_per_frame == 1 and spec.qn_fraction["Q0"] == 1.0
    assert spec.anion_fraction["non_bridging"] == 1.0
    assert spec.last.former_homopolar.tolist() == [1, 1]
    # a P-P cutoff below the bond turns it into two PS3 units
    split = compute_speciation(p2s6_pp(), former_former_cutoff_A={"P-P": 2.0})
    assert split.unit_fraction_by_unit == {"PS3": 1.0}


def test_edge_sharing_dimer_and_chain():
    # two tetrahedra sharing an edge: P at +-1.5 Å on x, shared S at +-1.5 Å on y
    p = [[1.5, 0, 0], [-1.5, 0, 0]]
    shared = [[0, 1.5, 0], [0, -1.5, 0]]
    terminal = [[2.7, 0, 1.2], [2.7, 0, -1.2], [-2.7, 0, 1.2], [-2.7, 0, -1.2]]
    spec = compute_speciation(in_box(["P"] * 2 + ["S"] * 6, p + shared + terminal))
    assert spec.unit_fraction_by_former == {"P2S6 (edge)": 1.0}
    assert spec.edge_sharing_pairs_per_frame == 1 and spec.qn_fraction["Q2"] == 1.0
    # a corner-sharing chain of three tetrahedra: P-S-P-S-P along x
    chain = in_box(["P", "S", "P", "S", "P"] + ["S"] * 8,
                   [[-3.6, 0, 0], [-1.8, 0.9, 0], [0, 0, 0], [1.8, 0.9, 0], [3.6, 0, 0],
                    [-3.6, -1.2, 1.6], [-3.6, -1.2, -1.6], [-5.2, 0.9, 0],
                    [0, -1.2, 1.6], [0, -1.2, -1.6],
                    [3.6, -1.2, 1.6], [3.6, -1.2, -1.6], [5.2, 0.9, 0]])
    spec = compute_speciation(chain)
    assert spec.unit_fraction_by_former == {"P3S10 (chain)": 1.0}
    assert spec.qn_fraction["Q1"] == pytest.approx(2 / 3) and spec.qn_fraction["Q2"] == pytest.approx(1 / 3)


def test_guess_network_from_composition():
    assert guess_network(["Li", "P", "S"]) == (("P",), "S")
    assert guess_network(["Li", "Ge", "P", "S"]) == (("P", "Ge"), "S")
    assert guess_network(["Li", "P", "O"]) == (("P",), "O")
    assert guess_network(["Li", "B", "H"]) == (("B",), "H")
    assert guess_network(["Li", "Si", "S"]) == (("Si",), "S")
    assert guess_network(["Li", "La", "Zr", "O"]) is None


def test_speciation_of_a_trajectory_is_the_mean_of_frames():
    frames = [p2s6_pp(), p2s6_pp()]
    frames[1].positions[1] += [0, 0, -0.5]                   # P-P 2.72 Å: bond broken
    both = compute_speciation(frames)
    assert both.unit_fraction_by_former == pytest.approx({"P2S6 (P-P)": 0.5, "PS3": 0.5})
    assert both.qn_per_frame["Q0"].tolist() == [1.0, 1.0]
    assert both.homopolar_bonds_per_frame == 0.5


def test_bad_input_gives_clear_errors():
    atoms = build_structure("gamma_li3ps4")
    with pytest.raises(UserInputError, match="anion O is not in this structure"):
        compute_speciation(atoms, former="P", anion="O")
    with pytest.raises(UserInputError, match="both former and anion"):
        compute_speciation(atoms, former="S", anion="S")
    with pytest.raises(UserInputError, match="'Q' is not a chemical symbol"):
        compute_speciation(atoms, former="Q")
    with pytest.raises(UserInputError, match="positive distance"):
        compute_speciation(atoms, cutoff_A=-1.0)
    with pytest.raises(UserInputError, match="not a bond-angle triplet"):
        compute_bond_angles(atoms, "P-S")
    with pytest.raises(UserInputError, match="O not in this structure"):
        compute_bond_angles(atoms, "O-P-O")
