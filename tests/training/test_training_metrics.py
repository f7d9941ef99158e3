"""Metrics: hand-computed RMSE/MAE, per-element forces, GPa, sums, parity data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from ase import units

from ssestudio.models import build_model, collate
from ssestudio.training import ErrorSums, Predictions, evaluate, parity_data, predict


def known_predictions():
    """Two structures (2 + 1 atoms); only the first has a stress label."""
    stress_pred = np.zeros((2, 3, 3))
    stress_pred[0] = np.eye(3) * 0.01                          # eV/Å³
    return Predictions(
        n_atoms=np.array([2, 1]), species=np.array([0, 1, 1]), weight=np.ones(2),
        energy_ref=np.array([-2.0, -1.0]), energy_pred=np.array([-1.9, -1.05]),
        forces_ref=np.zeros((3, 3)),
        forces_pred=np.array([[0.1, 0, 0], [0, -0.2, 0], [0, 0, 0.3]]),
        stress_ref=np.zeros((2, 3, 3)), stress_pred=stress_pred,
        has_stress=np.array([True, False]))


def test_metrics_match_hand_computed_values():
    sums = ErrorSums.from_predictions(known_predictions(), 2)
    m = sums.metrics(["Li", "S"])
    assert (m.n_structures, m.n_atoms, m.n_stress) == (2, 3, 1)
    # per-atom energy errors: +0.1/2 and -0.05/1 eV/atom
    assert m.energy_rmse_meV_atom == pytest.approx(50.0)
    assert m.energy_mae_meV_atom == pytest.approx(50.0)
    assert m.force_rmse_eV_A == pytest.approx(math.sqrt(0.14 / 9))
    assert m.force_mae_eV_A == pytest.approx(0.6 / 9)
    assert m.force_rmse_per_element_eV_A == pytest.approx(
        {"Li": math.sqrt(0.01 / 3), "S": math.sqrt(0.13 / 6)})
    # 1 eV/Å³ = 160.21766 GPa
    assert 1 / units.GPa == pytest.approx(160.21766, rel=1e-7)
    assert m.stress_rmse_GPa == pytest.approx(math.sqrt(3e-4 / 9) * 160.21766, rel=1e-6)
    assert m.stress_mae_GPa == pytest.approx(0.03 / 9 * 160.21766, rel=1e-6)
    assert sums.loss(1.0, 100.0, 1e4) == pytest.approx(0.0025 + 100 * 0.14 / 9 + 1e4 * 3e-4 / 9)
    d = m.to_dict()
    for key in ("energy_rmse_meV_atom", "energy_mae_meV_atom", "force_rmse_eV_A",
                "force_mae_eV_A", "stress_rmse_GPa", "stress_mae_GPa",
                "force_rmse_per_element_eV_A", "n_structures", "n_atoms"):
        assert key in d
    assert type(m).from_dict(d) == m


def test_sums_add_and_survive_a_vector_round_trip():
    p = known_predictions()
    first = Predictions(**{k: getattr(p, k)[:1] if k not in ("species", "forces_ref",
                                                                "forces_pred")
                           else getattr(p, k)[:2] for k in Predictions.__dataclass_fields__})
    second = Predictions(**{k: getattr(p, k)[1:] if k not in ("species", "forces_ref",
                                                                 "forces_pred")
                            else getattr(p, k)[2:] for k in Predictions.__dataclass_fields__})
    whole = ErrorSums.from_predictions(p, 2)
    parts = ErrorSums.from_predictions(first, 2) + ErrorSums.from_predictions(second, 2)
    np.testing.assert_allclose(parts.vector(), whole.vector())
    assert ErrorSums.from_vector(whole.vector()).metrics("AB") == whole.metrics("AB")
    assert Predictions.concatenate([first, second]).energy_pred.tolist() == [-1.9, -1.05]


def test_weights_enter_the_loss_but_not_the_metrics():
    p = known_predictions()
    heavy = Predictions(**{**{k: getattr(p, k) for k in Predictions.__dataclass_fields__},
                           "weight": np.array([2.0, 0.0])})
    a, b = ErrorSums.from_predictions(p, 2), ErrorSums.from_predictions(heavy, 2)
    assert a.metrics("AB") == b.metrics("AB")
    assert b.loss(1, 0, 0) == pytest.approx(2 * 0.05 ** 2 / 2)
    assert b.loss(0, 1, 0) == pytest.approx(2 * (0.01 + 0.04) / 9)


def test_no_stress_labels_give_none():
    p = known_predictions()
    none = Predictions(**{**{k: getattr(p, k) for k in Predictions.__dataclass_fields__},
                          "has_stress": np.array([False, False])})
    m = ErrorSums.from_predictions(none, 2).metrics("AB")
    assert m.stress_rmse_GPa is None and m.stress_mae_GPa is None and m.n_stress == 0
    assert parity_data(none, "AB")["stress_GPa"] is None


def test_parity_data_subsamples_forces_with_element_labels():
    p = known_predictions()
    full = parity_data(p, ["Li", "S"])
    assert full["energy_per_atom_eV"]["reference"] == [-1.0, -1.0]
    assert full["energy_per_atom_eV"]["predicted"] == pytest.approx([-0.95, -1.05])
    assert full["forces_eV_A"]["element"] == ["Li"] * 3 + ["S"] * 6
    assert full["forces_eV_A"]["n_total"] == 9
    assert full["stress_GPa"]["predicted"][0] == pytest.approx(0.01 * 160.2177, abs=1e-4)
    few = parity_data(p, ["Li", "S"], max_force_points=4, seed=1)
    assert len(few["forces_eV_A"]["predicted"]) == 4 == len(few["forces_eV_A"]["element"])
    assert few == parity_data(p, ["Li", "S"], max_force_points=4, seed=1)


def test_evaluate_agrees_with_the_model_outputs(emt_data):
    torch.manual_seed(0)
    model = build_model("test-eam", emt_data.elements, cutoff_A=4.0).double()
    graphs = emt_data.validation
    m = evaluate(model, graphs, batch_size=5)
    out = model(collate(graphs, dtype=torch.float64), forces=True, stress=True)
    ref = collate(graphs, dtype=torch.float64)
    de = ((out["energy"] - ref.energy) / ref.n_atoms).detach().numpy()
    df = (out["forces"] - ref.forces).detach().numpy()
    ds = (out["stress"] - ref.stress).detach().numpy()
    assert m.energy_rmse_meV_atom == pytest.approx(1000 * np.sqrt(np.mean(de ** 2)))
    assert m.force_rmse_eV_A == pytest.approx(np.sqrt(np.mean(df ** 2)))
    assert m.stress_rmse_GPa == pytest.approx(np.sqrt(np.mean(ds ** 2)) / units.GPa)
    assert m.n_structures == len(graphs) and m.n_atoms == 16 * len(graphs)
    pred = predict(model, graphs, batch_size=100)
    np.testing.assert_allclose(pred.forces_pred, out["forces"].detach().numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="at least one structure"):
        evaluate(model, [])
