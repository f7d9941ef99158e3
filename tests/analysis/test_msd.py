"""Displacements and MSD: FFT against the direct sum, directions, drift, charge MSD, errors."""

from __future__ import annotations

import numpy as np
import pytest
from transport_walkers import (
    ORTHOGONAL,
    TRICLINIC,
    gaussian_walk,
    lattice_walk,
    with_framework,
    write_wrapped,
)

from ssestudio.analysis import (
    compute_charge_msd,
    compute_msd,
    compute_msd_by_species,
    msd_from_array,
    read_displacements,
    select_atoms,
)
from ssestudio.core.errors import UserInputError
from ssestudio.io import TrajectoryWriter, open_trajectory


def _direct_tensor(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """O(T^2) MSD tensor and per-atom MSDs (T, N) of positions x (T, N, 3)."""
    T, N, _ = x.shape
    tensor, per_atom = np.zeros((T, 3, 3)), np.zeros((T, N))
    for m in range(1, T):
        d = x[m:] - x[:-m]
        tensor[m] = np.einsum("kai,kaj->ij", d, d) / (len(d) * N)
        per_atom[m] = (d**2).sum(-1).mean(0)
    return tensor, per_atom


@pytest.mark.parametrize("chunk_atoms", [None, 2])
def test_fft_msd_equals_direct_sum(chunk_atoms):
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(size=(41, 5, 3)) * [1.0, 2.0, 0.5], axis=0) + 30.0
    result = msd_from_array(x, timestep_fs=20.0, chunk_atoms=chunk_atoms)
    tensor, per_atom = _direct_tensor(x)
    np.testing.assert_allclose(result.msd_tensor_A2, tensor, atol=1e-10)
    np.testing.assert_allclose(result.msd_A2, np.trace(tensor, axis1=1, axis2=2), atol=1e-10)
    np.testing.assert_allclose(result.msd_sem_A2[1:], per_atom[1:].std(1, ddof=1) / np.sqrt(5),
                               atol=1e-10)
    assert result.n_origins[0] == 41 and result.n_origins[-1] == 1
    np.testing.assert_allclose(result.time_ps[:3], [0.0, 0.02, 0.04])
    assert not result.msd_A2.flags.writeable  # results are immutable


def test_anisotropic_walk_components_and_directions():
    rng = np.random.default_rng(2)
    x = gaussian_walk(rng, n_frames=400, n_atoms=64, D_A2_ps=0.5, timestep_fs=100.0,
                      scale_xyz=(1.0, 4.0, 0.25))
    result = msd_from_array(x, timestep_fs=100.0, cell_A=TRICLINIC)
    t = result.time_ps[1:41]
    for axis, scale in enumerate((1.0, 4.0, 0.25)):  # MSD_x = 2 D_x t
        slope = np.polyfit(t, result.msd_xyz_A2[1:41, axis], 1)[0]
        assert slope == pytest.approx(2 * 0.5 * scale, rel=0.1)
    np.testing.assert_allclose(result.along("y"), result.msd_xyz_A2[:, 1])
    diagonal = result.along((1.0, 1.0, 0.0))
    expected = 0.5 * (result.msd_tensor_A2[:, 0, 0] + result.msd_tensor_A2[:, 1, 1]) + \
        result.msd_tensor_A2[:, 0, 1]
    np.testing.assert_allclose(diagonal, expected, atol=1e-9)
    c = TRICLINIC[2] / np.linalg.norm(TRICLINIC[2])
    np.testing.assert_allclose(result.along("c"), np.einsum("i,tij,j->t", c, result.msd_tensor_A2, c))
    with pytest.raises(UserInputError, match="direction"):
        result.along("w")


@pytest.mark.parametrize("cell", [ORTHOGONAL, TRICLINIC], ids=["orthogonal", "triclinic"])
def test_wrapped_file_gives_back_the_displacements(tmp_path, cell):
    rng = np.random.default_rng(3)
    mobile = gaussian_walk(rng, n_frames=60, n_atoms=6, D_A2_ps=2.0, timestep_fs=50.0)
    path = write_wrapped(tmp_path / "walk.h5", mobile, cell, ["Li"] * 6, timestep_fs=50.0)
    with open_trajectory(path) as traj:
        disp = read_displacements(traj, species="Li", chunk_frames=7)
    np.testing.assert_allclose(disp.displacements_A, mobile - mobile[0], atol=1e-9)
    assert disp.mean_volume_A3 == pytest.approx(abs(np.linalg.det(cell)))
    assert not disp.drift_removed and "no framework atoms" in disp.warnings[0]


def test_framework_drift_removal(tmp_path):
    rng = np.random.default_rng(4)
    mobile = gaussian_walk(rng, n_frames=80, n_atoms=8, D_A2_ps=1.0, timestep_fs=100.0)
    everything = with_framework(rng, mobile, n_framework=30, drift_A_per_frame=(0.05, 0.0, -0.02))
    path = write_wrapped(tmp_path / "drift.h5", everything, ORTHOGONAL, ["Li"] * 8 + ["S"] * 30,
                         timestep_fs=100.0)
    with open_trajectory(path) as traj:
        kept = compute_msd(read_displacements(traj, species="Li", remove_drift=False))
        removed_disp = read_displacements(traj, species="Li")
    removed = compute_msd(removed_disp)
    clean = msd_from_array(mobile, timestep_fs=100.0)
    drifting = msd_from_array(everything[:, :8], timestep_fs=100.0)
    np.testing.assert_allclose(kept.msd_tensor_A2, drifting.msd_tensor_A2, atol=1e-8)
    assert kept.msd_A2[-1] > clean.msd_A2[-1] + 10.0  # (0.05 * 79)^2 = 15.6 Å^2 of drift
    # the framework's vibration leaks in at the 0.05 / sqrt(30) Å level only
    np.testing.assert_allclose(removed.msd_A2, clean.msd_A2, atol=0.02 + 0.02 * clean.msd_A2.max())
    assert removed_disp.drift_removed and removed.species == ("Li",)


def test_charge_msd_of_independent_walkers_is_n_times_the_tracer_msd():
    rng = np.random.default_rng(5)
    x = gaussian_walk(rng, n_frames=3000, n_atoms=64, D_A2_ps=0.3, timestep_fs=100.0)
    tracer = msd_from_array(x, timestep_fs=100.0)
    disp = _as_displacements(x, ("Li",) * 64)
    charge = compute_charge_msd(disp, {"Li": 2.0})
    ratio = charge.msd_A2[1:11] / (4 * 64 * tracer.msd_A2[1:11])
    np.testing.assert_allclose(ratio, 1.0, atol=0.08)
    assert charge.collective and charge.charges == {"Li": 2.0} and np.isnan(charge.msd_sem_A2).all()
    with pytest.raises(UserInputError, match="no charge given for Li"):
        compute_charge_msd(disp, {"Na": 1})


def test_non_gaussian_parameter_zero_for_gaussian_positive_for_hops():
    rng = np.random.default_rng(6)
    gauss = msd_from_array(gaussian_walk(rng, n_frames=500, n_atoms=100, D_A2_ps=1.0,
                                         timestep_fs=100.0), timestep_fs=100.0)
    hops = msd_from_array(lattice_walk(rng, n_frames=500, n_atoms=100, hop_A=2.0,
                                       hop_probability=0.02), timestep_fs=100.0)
    assert np.abs(gauss.alpha2[:10]).max() < 0.1
    assert hops.alpha2[0] > 5.0  # one hop in a few frames: far from Gaussian


def test_select_atoms_and_subsets():
    symbols = ["Li", "Li", "P", "S", "Li"]
    np.testing.assert_array_equal(select_atoms(symbols, species="Li"), [0, 1, 4])
    np.testing.assert_array_equal(select_atoms(symbols, species="Li", indices=[1, 2, 4]), [1, 4])
    with pytest.raises(UserInputError, match="species Na not present.*Li, P, S"):
        select_atoms(symbols, species="Na")
    with pytest.raises(UserInputError, match="empty"):
        select_atoms(symbols, species="Li", indices=[2, 3])
    x = np.cumsum(np.random.default_rng(7).normal(size=(30, 4, 3)), axis=0)
    whole = compute_msd(_as_displacements(x, ("Li",) * 4), atoms=[1, 3])
    np.testing.assert_allclose(whole.msd_A2, msd_from_array(x[:, [1, 3]], timestep_fs=1.0).msd_A2)


def test_msd_per_species_from_one_read(tmp_path):
    rng = np.random.default_rng(9)
    fast = gaussian_walk(rng, n_frames=50, n_atoms=4, D_A2_ps=2.0, timestep_fs=100.0)
    slow = gaussian_walk(rng, n_frames=50, n_atoms=3, D_A2_ps=0.1, timestep_fs=100.0)
    atoms = with_framework(rng, np.concatenate([fast, slow], axis=1), n_framework=5)
    path = write_wrapped(tmp_path / "two.h5", atoms, TRICLINIC, ["Li"] * 4 + ["Na"] * 3 + ["S"] * 5,
                         timestep_fs=100.0)
    with open_trajectory(path) as traj:
        disp = read_displacements(traj, species=["Li", "Na"])
        alone = compute_msd(read_displacements(traj, species="Na", framework_species=["S"]))
    both = compute_msd_by_species(disp)
    assert list(both) == ["Li", "Na"] and both["Na"].n_atoms == 3
    np.testing.assert_allclose(both["Na"].msd_A2, alone.msd_A2, atol=1e-12)
    assert both["Li"].msd_A2[10] > 5 * both["Na"].msd_A2[10]


def _one_species_file(tmp_path, positions, *, timestep_fs=10.0, times_fs=None):
    path = tmp_path / "bad.h5"
    with TrajectoryWriter(path, ["Li"] * positions.shape[1], timestep_fs=timestep_fs,
                          overwrite=True) as writer:
        writer.extend(positions, ORTHOGONAL, times_fs=times_fs)
    return path


def test_bad_inputs_give_clear_errors(tmp_path):
    x = np.random.default_rng(8).random((5, 3, 3))
    with (open_trajectory(_one_species_file(tmp_path, x[:1])) as traj,
          pytest.raises(UserInputError, match="at least 2 frames.*has 1")):
        read_displacements(traj)
    bad = x.copy()
    bad[3, 2, 1] = np.nan
    with (open_trajectory(_one_species_file(tmp_path, bad)) as traj,
          pytest.raises(UserInputError, match="frame 3 has a non-finite position.*atom 2")):
        read_displacements(traj)
    with open_trajectory(_one_species_file(tmp_path, x, timestep_fs=None)) as traj:
        with pytest.raises(UserInputError, match="does not record the time between frames"):
            read_displacements(traj)
        assert read_displacements(traj, timestep_fs=5.0).timestep_fs == 5.0
    uneven = [0.0, 10.0, 20.0, 35.0, 45.0]
    with (open_trajectory(_one_species_file(tmp_path, x, times_fs=uneven)) as traj,
          pytest.raises(UserInputError, match="not equally spaced")):
        read_displacements(traj)
    with pytest.raises(UserInputError, match="shape"):
        msd_from_array(x[0], timestep_fs=1.0)


def _as_displacements(x, symbols):
    from ssestudio.analysis import Displacements

    return Displacements(displacements_A=x - x[0], time_ps=np.arange(len(x)) * 0.1,
                         timestep_fs=100.0, indices=np.arange(x.shape[1]), symbols=symbols,
                         mean_cell_A=ORTHOGONAL, mean_volume_A3=float(np.linalg.det(ORTHOGONAL)),
                         drift_removed=False, nn_distance_A=None)
