"""Unwrapping (TOR scheme) across cell boundaries for orthogonal, triclinic, changing cells."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.io import Unwrapper, unwrap_positions, wrap_positions

ORTHO = np.diag([5.0, 6.0, 7.0])
TRICLINIC = np.array([[5.0, 0.0, 0.0], [2.0, 5.5, 0.0], [-1.5, 1.0, 6.0]])


def walkers(cells: np.ndarray, n_atoms: int = 20, seed: int = 1):
    """Atoms taking steps of up to ~0.6 Å, wrapped into each frame's cell after each step.

    This is what an MD code writes under NPT: the wrapped position of frame t is the
    previous one plus the physical step, wrapped into the current cell. Returns the wrapped
    positions (T, N, 3) and the known unwrapped path u_0 + cumsum(steps).
    """
    rng = np.random.default_rng(seed)
    steps = rng.uniform(-0.6, 0.6, size=(len(cells), n_atoms, 3))
    steps[0] = 0.0
    wrapped = np.empty_like(steps)
    wrapped[0] = wrap_positions(rng.random((n_atoms, 3)) @ cells[0], cells[0])
    for t in range(1, len(cells)):
        wrapped[t] = wrap_positions(wrapped[t - 1] + steps[t], cells[t])
    return wrapped, wrapped[0] + np.cumsum(steps, axis=0)


@pytest.mark.parametrize("cell", [ORTHO, TRICLINIC], ids=["orthogonal", "triclinic"])
def test_constant_cell_recovers_known_path(cell):
    cells = np.broadcast_to(cell, (400, 3, 3))
    wrapped, truth = walkers(cells)
    assert np.abs(np.diff(wrapped, axis=0)).max() > 2.0  # atoms did cross boundaries
    np.testing.assert_allclose(unwrap_positions(wrapped, cell), truth, atol=1e-9)
    np.testing.assert_allclose(unwrap_positions(wrapped, cells), truth, atol=1e-9)


def test_changing_triclinic_cell_recovers_known_path():
    t = np.arange(400)
    scale = 1.0 + 0.05 * np.sin(t / 15.0)
    shear = 0.3 * np.sin(t / 40.0)
    cells = TRICLINIC * scale[:, None, None]
    cells[:, 1, 0] += shear
    wrapped, truth = walkers(cells)
    np.testing.assert_allclose(unwrap_positions(wrapped, cells), truth, atol=1e-9)


def test_image_count_unwrapping_would_be_wrong_for_changing_cells():
    cells = ORTHO * (1.0 + 0.1 * np.sin(np.arange(300) / 10.0))[:, None, None]
    wrapped, truth = walkers(cells)
    frac = wrapped @ np.linalg.inv(cells)
    images = np.cumsum(np.round(-np.diff(frac, axis=0, prepend=frac[:1])), axis=0)
    naive = wrapped + np.einsum("tni,tij->tnj", images, cells)
    assert np.abs(naive - truth).max() > 0.5  # why the TOR scheme is used
    np.testing.assert_allclose(unwrap_positions(wrapped, cells), truth, atol=1e-9)


def test_streaming_in_chunks_is_bit_identical():
    cells = TRICLINIC * (1.0 + 0.02 * np.cos(np.arange(250) / 7.0))[:, None, None]
    wrapped, _ = walkers(cells)
    whole = unwrap_positions(wrapped, cells)
    unwrapper = Unwrapper()
    parts = [unwrapper.feed(wrapped[a:a + 37], cells[a:a + 37]) for a in range(0, 250, 37)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    unwrapper.reset()
    single = [unwrapper.feed(wrapped[t], cells[t]) for t in range(5)]
    np.testing.assert_array_equal(single, whole[:5])


def test_wrap_positions_into_cell():
    rng = np.random.default_rng(3)
    positions = rng.normal(scale=20.0, size=(50, 3))
    wrapped = wrap_positions(positions, TRICLINIC)
    frac = wrapped @ np.linalg.inv(TRICLINIC)
    assert frac.min() >= 0.0 and frac.max() < 1.0
    shift = (positions - wrapped) @ np.linalg.inv(TRICLINIC)
    np.testing.assert_allclose(shift, np.round(shift), atol=1e-9)


def test_shape_errors_say_what_is_expected():
    with pytest.raises(UserInputError, match=r"\(n_frames, n_atoms, 3\)"):
        unwrap_positions(np.zeros((4, 3)), ORTHO)
    with pytest.raises(UserInputError, match=r"\(3, 3\) or \(4, 3, 3\)"):
        unwrap_positions(np.zeros((4, 2, 3)), np.zeros((3, 3, 3)))
    unwrapper = Unwrapper()
    unwrapper.feed(np.zeros((2, 3)), ORTHO)
    with pytest.raises(UserInputError, match="reset"):
        unwrapper.feed(np.zeros((3, 3)), ORTHO)
