"""Polyanion detection by connectivity, and units that break, re-form or appear over a run."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.analysis.rotation import (
    ANIONS,
    RotationConfig,
    analyze_rotation,
    custom_anion,
    find_units,
    resolve_anion,
)
from ssestudio.analysis.rotation.synthetic import RotorModel, simulate, tetrahedron
from ssestudio.core.errors import UserInputError


def units_of(atoms, anion):
    return find_units(atoms.get_chemical_symbols(), atoms.positions, atoms.cell[:], True,
                      resolve_anion(anion))


@pytest.fixture(scope="module")
def li7p3s11():
    from ssestudio.data.library import build_structure

    return build_structure("li7p3s11")


def test_ps4_and_p2s7_are_told_apart_in_li7p3s11(li7p3s11):
    ps4, p2s7 = units_of(li7p3s11, "PS4"), units_of(li7p3s11, "P2S7")
    assert ps4.formulas == p2s7.formulas == {"P2S7": 2, "PS4": 2}
    assert ps4.atoms.shape == (2, 5) and (ps4.n_centres, ps4.n_ligands) == (1, 4)
    assert p2s7.atoms.shape == (2, 9) and (p2s7.n_centres, p2s7.n_ligands) == (2, 7)
    symbols = np.array(li7p3s11.get_chemical_symbols())
    assert (symbols[p2s7.atoms[:, :2]] == "P").all() and (symbols[p2s7.atoms[:, 2:]] == "S").all()
    assert len(ps4.bonds) == 8 and len(p2s7.bonds) == 16  # 4 P-S per PS4; 8 per P2S7
    assert not set(ps4.atoms.ravel()) & set(p2s7.atoms.ravel())


def test_b12h12_cage_is_one_unit():
    from ssestudio.data.library import build_structure

    u = units_of(build_structure("li2b12h12"), "B12H12")
    assert u.n_units == 4 and (u.n_centres, u.n_ligands) == (12, 12)
    assert len(u.bonds) == 4 * (12 + 30)  # 12 B-H and 30 B-B bonds per icosahedron


def test_nbocl4_chains_share_oxygen_between_units():
    """Nb octahedra along z share O corners; each Nb counts 2 O and 4 Cl."""
    n, c = 4, 3.9
    symbols, pos = [], []
    for k in range(n):
        z = k * c
        symbols += ["Nb", "O"] + ["Cl"] * 4
        pos += [[5, 5, z], [5, 5, z + 1.85]]
        pos += [[5 + dx, 5 + dy, z + 0.3] for dx, dy in ((2.35, 0), (-2.35, 0), (0, 2.35),
                                                         (0, -2.35))]
    cell = np.diag([10.0, 10.0, n * c])
    u = find_units(symbols, np.array(pos), cell, True, ANIONS["NbOCl4"])
    assert u.n_units == n and u.formulas == {"NbO2Cl4": n}
    o_of_unit = [sorted(a for a in row if symbols[a] == "O") for row in u.atoms.tolist()]
    assert all(len(o) == 2 for o in o_of_unit)
    assert len({o for row in o_of_unit for o in row}) == n  # each O is shared by two units


def test_custom_anion_and_cutoff_override(li7p3s11):
    symbols = li7p3s11.get_chemical_symbols()
    custom = custom_anion("P", "S", n_ligands=4)
    assert custom.name == "PS4" and custom.composition == (("P", 1), ("S", 4))
    u = find_units(symbols, li7p3s11.positions, li7p3s11.cell[:], True, custom)
    assert u.n_units == 2
    open_ = custom_anion("P", "S")  # no count: the most common composition
    assert find_units(symbols, li7p3s11.positions, li7p3s11.cell[:], True, open_).n_units == 2
    tight = resolve_anion("PS4").with_cutoff(1.5)  # no P-S bond that short
    with pytest.raises(UserInputError, match="no PS4 unit found"):
        find_units(symbols, li7p3s11.positions, li7p3s11.cell[:], True, tight)
    cutoffs = resolve_anion("PS4").with_cutoff({"P-S": 2.7}).cutoffs_A
    assert {(a, b): r for a, b, r in cutoffs}[("P", "S")] == 2.7


def test_bad_anion_inputs_say_how_to_fix_them(li7p3s11):
    with pytest.raises(UserInputError, match="known: PS4, P2S7"):
        resolve_anion("PO4x")
    with pytest.raises(UserInputError, match="both centre and ligand"):
        custom_anion("S", "S")
    with pytest.raises(UserInputError, match="at least 2"):
        custom_anion("P", "S", n_ligands=1)
    with pytest.raises(UserInputError, match="no P-O bond"):
        resolve_anion("PS4").with_cutoff({"P-O": 2.0})
    with pytest.raises(UserInputError, match="needs B, which is not in this structure"):
        units_of(li7p3s11, "BH4")


@pytest.fixture(scope="module")
def breaking_run(tmp_path_factory):
    """27 static PS4 (+ 54 Li): unit 0 loses an S for frames 100-199 (re-forms), unit 1 from
    frame 300 on (stays broken); 5 extra atoms assemble into a new PS4 from frame 300."""
    run = simulate(RotorModel(n_frames=400, timestep_fs=10.0, jump_rate_per_ps=0.0, seed=2))
    pos = run.positions_A.copy()
    pos[100:200, 1] += 1.6 * (pos[100:200, 1] - pos[100:200, 0]) / 2.05  # S of unit 0 leaves
    pos[300:, 6] += 1.6 * (pos[300:, 6] - pos[300:, 5]) / 2.05           # S of unit 1 leaves
    corner = np.zeros(3)                                                 # 6 Å from every site
    far, near = corner + tetrahedron(3.4), corner + tetrahedron(2.05)
    extra = np.concatenate([np.broadcast_to(corner, (400, 1, 3)),
                            np.where(np.arange(400)[:, None, None] < 300, far, near)], axis=1)
    symbols = run.symbols + ("P", "S", "S", "S", "S")
    from ssestudio.analysis.rotation.synthetic import SyntheticRun

    run = SyntheticRun(symbols=symbols, positions_A=np.concatenate([pos, extra], axis=1),
                       cell_A=run.cell_A, timestep_fs=run.timestep_fs,
                       orientations=run.orientations, rotation_frame=run.rotation_frame,
                       rotation_unit=run.rotation_unit, hop_frame=run.hop_frame,
                       hop_cation=run.hop_cation)
    return run.write(tmp_path_factory.mktemp("rot") / "breaking.h5")


def test_units_that_break_and_reform_are_reported_and_left_out(breaking_run):
    cfg = RotationConfig(n_checkpoints=9, n_bootstrap_fit=0, n_shuffles=20, n_bootstrap=20)
    r = analyze_rotation(breaking_run, cfg)
    u = r.units
    assert (u.n_units, u.n_broken, u.n_reformed, u.n_analysed) == (27, 2, 1, 25)
    by_unit = {b["unit"]: b for b in u.broken}
    assert by_unit[0]["first_broken_ps"] == pytest.approx(1.0)
    assert by_unit[0]["reformed_ps"] == pytest.approx(2.0)
    assert by_unit[1]["reformed_ps"] is None
    assert by_unit[1]["broken_fraction"] == pytest.approx(100 / 400)
    assert u.n_new_units == 1                      # the PS4 assembled at frame 300
    last = u.checkpoints[-1]
    assert (last.frame, last.n_units, last.n_original) == (399, 27, 26)
    assert any("broke during the run" in w for w in r.warnings)
    assert not set(u.unit_atoms[:, 0].tolist()) & {0, 5}
    everything = analyze_rotation(breaking_run, RotationConfig(
        include_broken=True, n_bootstrap_fit=0, n_shuffles=20, n_bootstrap=20))
    assert everything.units.n_analysed == 27
