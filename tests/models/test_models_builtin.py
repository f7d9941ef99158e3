"""The built-in moment network: exact forces and stress, invariances, smoothness, ZBL core."""

import numpy as np
import pytest
import torch
from ase import Atoms

from ssestudio.core.errors import UserInputError
from ssestudio.models import atoms_to_batch, build_model, presets
from tests.models.model_checks import (check_forces_by_finite_differences,
                                       check_rotation_covariance,
                                       check_stress_by_finite_differences, energy, lips_cell,
                                       predict)


def model(name="default", dtype=torch.float64, seed=0):
    torch.manual_seed(seed)
    m = build_model(name, ["Li", "P", "S"]).to(dtype)
    with torch.no_grad():   # make the untrained output large enough to test derivatives
        m.feature_scale.fill_(30.0)
        m.set_energy_scale(0.5)
    return m


@pytest.mark.parametrize("name", ["default", "large"])
def test_forces_are_minus_the_finite_difference_gradient(name):
    check_forces_by_finite_differences(model(name), lips_cell())


@pytest.mark.parametrize("name", ["default", "large"])
def test_stress_is_the_finite_difference_strain_derivative(name):
    check_stress_by_finite_differences(model(name), lips_cell(1), rel_tol=0)


def test_energy_is_invariant_to_rotation_translation_permutation_and_image_choice():
    m, atoms = model("large"), lips_cell(2)
    rng = np.random.default_rng(3)
    ref = check_rotation_covariance(m, atoms, rng)
    # translation
    moved = atoms.copy()
    moved.positions += [0.37, -1.2, 2.5]
    assert predict(m, moved)["energy"][0] == pytest.approx(ref["energy"][0], abs=1e-10)
    # permutation of atoms
    order = rng.permutation(len(atoms))
    perm = atoms[order]
    out = predict(m, perm)
    assert out["energy"][0] == pytest.approx(ref["energy"][0], abs=1e-10)
    assert np.allclose(out["forces"], ref["forces"][order], atol=1e-10)
    # choice of periodic image: wrap atoms moved by lattice vectors
    imaged = atoms.copy()
    imaged.positions += rng.integers(-2, 3, (len(atoms), 3)) @ atoms.cell[:]
    out = predict(m, imaged)
    assert out["energy"][0] == pytest.approx(ref["energy"][0], abs=1e-9)
    assert np.allclose(out["forces"], ref["forces"], atol=1e-9)
    # a supercell is the same crystal: energy extensive, forces repeated
    sup = predict(m, atoms.repeat((2, 1, 1)))
    assert sup["energy"][0] == pytest.approx(2 * ref["energy"][0], abs=1e-9)
    assert np.allclose(sup["stress"][0], ref["stress"][0], atol=1e-12)


def test_energy_and_forces_go_smoothly_to_zero_at_the_cutoff():
    m = model()
    def dimer(r):
        return Atoms("LiS", positions=[[0, 0, 0], [r, 0, 0]], cell=[30, 30, 30], pbc=False)
    rc = m.cutoff_A
    e_in = energy(m, dimer(rc - 1e-4)) - energy(m, dimer(rc + 1))
    f_in = predict(m, dimer(rc - 1e-4), stress=False)["forces"]
    assert abs(e_in) < 1e-9
    assert np.abs(f_in).max() < 1e-6


def test_zbl_core_repels_atoms_pushed_together():
    m = model()
    def dimer_energy(r):
        return energy(m, Atoms("PS", positions=[[0, 0, 0], [r, 0, 0]], cell=[30] * 3))
    assert dimer_energy(0.3) > dimer_energy(0.6) > dimer_energy(1.0)
    assert dimer_energy(0.3) - dimer_energy(1.5) > 100      # eV: a hard wall
    no_zbl = build_model("default", ["P", "S"], zbl=False)
    with_zbl = build_model("default", ["P", "S"])
    far = Atoms("PS", positions=[[0, 0, 0], [2.05, 0, 0]], cell=[30] * 3)
    b = atoms_to_batch([far], ["P", "S"], 5.0)
    assert float(with_zbl.repulsion_energies(b.species, b.edge_index,
                                             torch.tensor([[2.05, 0.0, 0.0]] * 2)).abs().sum()) == 0
    assert no_zbl.hyperparameters()["zbl"] is False


def test_float32_default_and_float64_agree():
    m64 = model()
    m32 = model().to(torch.float32)
    atoms = lips_cell()
    b32 = atoms_to_batch([atoms], m32.elements, m32.cutoff_A)
    assert b32.positions.dtype == torch.float32
    f32 = m32(b32)["forces"].detach().numpy()
    assert np.allclose(f32, predict(m64, atoms, stress=False)["forces"], atol=1e-4)
    assert next(build_model("default", ["Li"]).parameters()).dtype == torch.float32


def test_batched_structures_equal_one_by_one():
    m = model()
    cells = [lips_cell(s) for s in range(3)]
    b = atoms_to_batch(cells, m.elements, m.cutoff_A, dtype=torch.float64)
    out = m(b, stress=True)
    for k, atoms in enumerate(cells):
        one = predict(m, atoms)
        assert float(out["energy"][k].detach()) == pytest.approx(one["energy"][0], abs=1e-10)
        assert np.allclose(out["stress"][k].detach().numpy(), one["stress"][0], atol=1e-12)


def test_presets_and_bad_input():
    assert {"default", "large"} <= set(presets())
    assert presets()["large"].hyperparameters["max_l"] == 3
    with pytest.raises(UserInputError, match="unknown model 'huge'"):
        build_model("huge", ["Li"])
    with pytest.raises(UserInputError, match="invalid hyper-parameters"):
        build_model("default", ["Li"], n_layers=3)
    m = build_model("default", ["Li", "S"])
    with pytest.raises(UserInputError, match="contains P, which the model was not trained"):
        atoms_to_batch([lips_cell()], m.elements, m.cutoff_A)
