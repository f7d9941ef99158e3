"""Shared checks of force-field models: a test cell, and forces / stress against finite
differences of the energy (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ase.build import bulk

from ssestudio.models import atoms_to_batch


def lips_cell(seed=0, repeat=2, scale=1.0):
    """A small rattled triclinic Li-P-S cell (16 atoms for repeat=2; arbitrary but fixed)."""
    atoms = bulk("Li", "bcc", a=3.6 * scale, cubic=True).repeat(repeat)
    rng = np.random.default_rng(seed)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.permutation(len(atoms))[: len(atoms) // 2]] = "S"
    symbols[rng.permutation(len(atoms))[:2]] = "P"
    atoms.symbols = list(symbols)
    atoms.set_cell(atoms.cell[:] + rng.normal(0, 0.2 * scale, (3, 3)), scale_atoms=True)
    atoms.rattle(0.15, seed=seed)
    return atoms


def energy(m, atoms) -> float:
    """Energy (eV) of ``atoms`` with model ``m`` in float64."""
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    return float(m(b, forces=False)["energy"].detach())


def predict(m, atoms, stress=True) -> dict:
    """Model outputs as numpy arrays (float64)."""
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    out = m(b, forces=True, stress=stress)
    return {k: v.detach().numpy() for k, v in out.items()}


def check_forces_by_finite_differences(m, atoms, *, indices=(0, 3, 7), h=1e-5, abs_tol=1e-7,
                                       rel_tol=1e-6):
    """Forces of ``m`` equal minus the central-difference gradient of its energy."""
    forces = predict(m, atoms, stress=False)["forces"]
    assert np.abs(forces).max() > 1e-2
    for i in indices:
        for k in range(3):
            plus, minus = atoms.copy(), atoms.copy()
            plus.positions[i, k] += h
            minus.positions[i, k] -= h
            fd = -(energy(m, plus) - energy(m, minus)) / (2 * h)
            assert forces[i, k] == pytest.approx(fd, abs=abs_tol, rel=rel_tol)


def check_stress_by_finite_differences(m, atoms, *, h=1e-5, min_stress=1e-4, abs_tol=1e-9,
                                       rel_tol=1e-6):
    """Stress of ``m`` equals the central-difference strain derivative of its energy / V."""
    stress = predict(m, atoms)["stress"][0]
    assert np.abs(stress).max() > min_stress
    volume = atoms.get_volume()
    for a in range(3):
        for b in range(3):
            def strained(d):
                eps = np.zeros((3, 3))
                eps[a, b] += d / 2
                eps[b, a] += d / 2
                s = atoms.copy()
                s.set_cell(atoms.cell[:] @ (np.eye(3) + eps), scale_atoms=True)
                return energy(m, s)
            fd = (strained(h) - strained(-h)) / (2 * h) / volume
            assert stress[a, b] == pytest.approx(fd, abs=abs_tol, rel=rel_tol)
    assert np.allclose(stress, stress.T)


def check_rotation_covariance(m, atoms, rng, *, atol=1e-10):
    """Rotating positions and cell together leaves the energy unchanged and rotates the
    forces (F R^T) and the stress (R s R^T). Returns the reference prediction."""
    ref = predict(m, atoms)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))                   # a random proper rotation
    rot = atoms.copy()
    rot.set_cell(atoms.cell[:] @ q.T, scale_atoms=False)
    rot.positions = atoms.positions @ q.T
    out = predict(m, rot)
    assert out["energy"][0] == pytest.approx(ref["energy"][0], abs=atol)
    assert np.allclose(out["forces"], ref["forces"] @ q.T, atol=atol)
    assert np.allclose(out["stress"][0], q @ ref["stress"][0] @ q.T, atol=atol * 1e-2)
    return ref
