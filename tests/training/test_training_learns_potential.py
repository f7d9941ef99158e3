"""The trainer learns a known smooth potential to a set tolerance (the built-in model)."""

import numpy as np
from ase.build import bulk
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.training import TrainConfig, Trainer, training_data_from_atoms


def lj_cells(n, seed):
    """Rattled, strained 2-element fcc cells labelled by a smooth Lennard-Jones potential."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = bulk("Ar", "fcc", a=5.3, cubic=True) * (2, 2, 1)
        symbols = np.array(atoms.get_chemical_symbols())
        symbols[rng.choice(len(atoms), 6, replace=False)] = "Kr"
        atoms.set_chemical_symbols(symbols.tolist())
        deform = np.eye(3) + rng.normal(scale=0.02, size=(3, 3))
        atoms.set_cell(atoms.cell[:] @ (0.5 * (deform + deform.T)), scale_atoms=True)
        atoms.positions += rng.normal(scale=0.12, size=atoms.positions.shape)
        atoms.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=6.5, smooth=True)
        labels = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
                  "stress": atoms.get_stress()}
        atoms.calc = SinglePointCalculator(atoms, **labels)
        out.append(atoms)
    return out


def test_the_default_model_learns_a_pair_potential(tmp_path):
    config = TrainConfig(dataset="lj", model="default", max_epochs=60, batch_size=4,
                         lr=5e-3, threads=1, seed=1, early_stopping_patience=None,
                         model_options={"cutoff_A": 6.5, "radial_channels": 8,
                                        "angular_channels": 4, "hidden": [32, 32]})
    data = training_data_from_atoms(config, lj_cells(48, 0), lj_cells(12, 1), lj_cells(12, 2))
    force_scale = np.sqrt(np.mean([np.mean(a.get_forces() ** 2) for a in lj_cells(12, 2)]))
    result = Trainer.from_data(config, data, tmp_path / "run").run()
    test = result.test_metrics
    # tolerance: forces within 30 % of their RMS size (measured 21 %), energies within
    # 1 meV/atom (measured 0.3); the untrained model is off by ~100 %
    assert test.force_rmse_eV_A < 0.3 * force_scale, (test.force_rmse_eV_A, force_scale)
    assert test.energy_rmse_meV_atom < 1.0, test.energy_rmse_meV_atom
