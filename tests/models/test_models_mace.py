"""The optional MACE family: exact forces and stress, invariance, files, training.

Tests that need mace-torch skip when it is not installed (run them in an environment with
``pip install torch==2.13.0 mace-torch==0.3.16``); the others run everywhere. MACE models
take seconds to build (e3nn code generation), so one model is built per module and copied.
"""

import copy
import importlib
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import torch
from ase.calculators.lj import LennardJones
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.core.errors import UserInputError
from ssestudio.models import atoms_to_batch, build_model, presets, save_model
from ssestudio.models.calculator import ModelCalculator, load_calculator
from ssestudio.models.serialization import export_torchscript
from tests.models.model_checks import (check_forces_by_finite_differences,
                                       check_rotation_covariance,
                                       check_stress_by_finite_differences, energy, lips_cell,
                                       predict)

HAS_MACE = importlib.util.find_spec("mace") is not None
needs_mace = pytest.mark.skipif(not HAS_MACE, reason="mace-torch is not installed")
ELEMENTS = ["Li", "P", "S"]


def lj_labelled(n, seed=0):
    """``n`` Li-P-S cells labelled (energy, forces, stress) by a smooth Lennard-Jones."""
    out = []
    for k in range(n):
        atoms = lips_cell(seed + k)
        atoms.calc = LennardJones(sigma=2.3, epsilon=0.05, rc=5.0, smooth=True)
        results = {"energy": atoms.get_potential_energy(), "forces": atoms.get_forces(),
                   "stress": atoms.get_stress()}
        atoms.calc = SinglePointCalculator(atoms, **results)
        out.append(atoms)
    return out


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: MACE's many small ops slow down badly on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def mace_model():
    """An untrained float64 ``mace`` model with a visible energy scale (copy before changing)."""
    if not HAS_MACE:
        pytest.skip("mace-torch is not installed")
    torch.manual_seed(0)
    m = build_model("mace", ELEMENTS).to(torch.float64)
    m.set_energy_scale(20.0)
    return m.eval()


# ---- everywhere -----------------------------------------------------------------------------
def test_importing_the_models_registers_mace_without_importing_it():
    code = ("import sys; from ssestudio.models import presets, model_family; "
            "p = presets()['mace']; cls = model_family('mace'); "
            "assert p.family == 'mace' and p.requires[0][0] == 'mace', p; "
            "assert cls.scriptable is False; "
            "assert 'mace' not in sys.modules and 'e3nn' not in sys.modules, 'imported'")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "mace" in presets()


def test_without_mace_building_or_loading_says_how_to_install(monkeypatch, tmp_path):
    real_find_spec, real_import = importlib.util.find_spec, importlib.import_module

    def find_spec(name, *args, **kwargs):
        return None if name.split(".")[0] == "mace" else real_find_spec(name, *args, **kwargs)

    def import_module(name, *args, **kwargs):
        if name.split(".")[0] == "mace":
            raise ModuleNotFoundError(f"No module named {name!r}", name="mace")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(importlib, "import_module", import_module)
    hint = r"pip install 'ssestudio\[mace\]'"
    with pytest.raises(UserInputError, match=rf"needs the package `mace`.*{hint}"):
        build_model("mace", ELEMENTS)
    from ssestudio.models.base import model_family
    with pytest.raises(UserInputError, match=hint):
        model_family("mace")(ELEMENTS, 5.0)
    # a saved MACE model opened where mace is missing
    from ssestudio.models.serialization import load_model
    torch.save({"format": "ssestudio-model", "format_version": 1, "family": "mace",
                "elements": ELEMENTS, "cutoff_A": 5.0, "hyperparameters": {},
                "state_dict": {}, "metadata": "{}"}, tmp_path / "mace.pt")
    with pytest.raises(UserInputError, match=hint):
        load_model(tmp_path / "mace.pt")


# ---- with mace-torch --------------------------------------------------------------------------
@needs_mace
def test_build_describe_and_no_torchscript(mace_model, tmp_path):
    m = mace_model
    assert m.family == "mace" and m.elements == ELEMENTS and m.cutoff_A == 5.0
    hp = m.hyperparameters()
    preset = dict(presets()["mace"].hyperparameters)
    assert preset.pop("cutoff_A") == 5.0 and {k: hp[k] for k in preset} == preset
    assert {"channels", "max_L", "avg_num_neighbors"} <= set(hp)
    assert m.describe()["n_parameters"] > 1000
    assert build_model("mace", ["Li"], channels=8, max_L=1).hyperparameters()["max_L"] == 1
    with pytest.raises(UserInputError, match="cannot be exported to TorchScript"):
        export_torchscript(m, tmp_path / "m.ts")


@needs_mace
def test_forces_are_minus_the_finite_difference_gradient(mace_model):
    m = mace_model
    for atoms in (lips_cell(0), lips_cell(5, scale=0.75)):   # the second inside the ZBL core
        check_forces_by_finite_differences(m, atoms)
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    vectors = (b.positions[b.edge_index[1]] - b.positions[b.edge_index[0]]
               + b.shifts @ b.cell[0])
    assert float(m.repulsion_energies(b.species, b.edge_index, vectors).sum()) > 0


@needs_mace
def test_stress_is_the_finite_difference_strain_derivative(mace_model):
    check_stress_by_finite_differences(mace_model, lips_cell(1), min_stress=1e-5)


@needs_mace
def test_invariance_batching_and_float32(mace_model):
    m, atoms = mace_model, lips_cell(2)
    rng = np.random.default_rng(3)
    ref = check_rotation_covariance(m, atoms, rng)
    order = rng.permutation(len(atoms))
    out = predict(m, atoms[order])
    assert out["energy"][0] == pytest.approx(ref["energy"][0], abs=1e-10)
    assert np.allclose(out["forces"], ref["forces"][order], atol=1e-10)
    sup = predict(m, atoms.repeat((2, 1, 1)))
    assert sup["energy"][0] == pytest.approx(2 * ref["energy"][0], abs=1e-9)
    cells = [lips_cell(s) for s in range(3)]
    b = atoms_to_batch(cells, m.elements, m.cutoff_A, dtype=torch.float64)
    energies = m(b, forces=False)["energy"].detach().numpy()
    assert np.allclose(energies, [energy(m, c) for c in cells], atol=1e-10)
    m32 = copy.deepcopy(m).to(torch.float32)
    b32 = atoms_to_batch([atoms], m.elements, m.cutoff_A)
    assert np.allclose(m32(b32)["forces"].detach().numpy(), ref["forces"], atol=1e-4)


@needs_mace
def test_save_load_calculator_round_trip(mace_model, tmp_path):
    m = copy.deepcopy(mace_model)
    m.set_reference_energies([-1.9, -5.4, -4.1])
    with torch.no_grad():   # weights that float32 cannot hold exactly
        for p in m.parameters():
            p.mul_(1 + 1e-6)
    path = save_model(tmp_path / "mace.pt", m, {"dataset": "lps@1"})
    calc = load_calculator(path)
    assert isinstance(calc, ModelCalculator) and calc.metadata == {"dataset": "lps@1"}
    assert calc.model.family == "mace" and calc.dtype == torch.float64
    atoms = lips_cell(4)
    atoms.calc = calc
    ref = predict(m, atoms)
    assert atoms.get_potential_energy() == pytest.approx(float(ref["energy"][0]), abs=1e-10)
    assert np.allclose(atoms.get_forces(), ref["forces"], atol=1e-10)
    assert atoms.get_stress().shape == (6,)


@needs_mace
def test_a_few_adamw_steps_reduce_the_energy_and_force_loss(mace_model):
    m = copy.deepcopy(mace_model).train()
    cells = lj_labelled(2)
    b = atoms_to_batch(cells, m.elements, m.cutoff_A, dtype=torch.float64)
    e_ref = torch.tensor([c.get_potential_energy() for c in cells], dtype=torch.float64)
    f_ref = torch.as_tensor(np.concatenate([c.get_forces() for c in cells]))
    with torch.no_grad():
        m.set_energy_scale(1.0, float(e_ref.sum() / b.positions.shape[0]))
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)

    def loss_fn():
        out = m(b, forces=True, create_graph=True)
        return (((out["energy"] - e_ref) / b.n_atoms) ** 2).mean() \
            + 10 * ((out["forces"] - f_ref) ** 2).mean()

    losses = []
    for _ in range(6):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.6 * losses[0], losses


@needs_mace
def test_trainer_trains_and_saves_a_mace_model(tmp_path):
    training = pytest.importorskip("ssestudio.training")
    cells = lj_labelled(6, seed=10)
    config = training.TrainConfig(
        dataset="lps-lj", model="mace",
        model_options={"channels": 8, "max_ell": 2, "correlation": 2, "radial_mlp": [16, 16]},
        dtype="float64", lr=1e-2, batch_size=2, max_epochs=3, warmup_epochs=0,
        early_stopping_patience=None, ema_decay=0.0, threads=1, device="cpu", eval_every=3)
    data = training.training_data_from_atoms(config, cells[:4], cells[4:], reference="lps-lj@1")
    result = training.train(config, data, tmp_path / "run")
    assert result.epochs == 3 and result.best_path is not None
    import json
    history = [json.loads(line) for line in result.history_path.read_text().splitlines()]
    assert history[-1]["train_loss"] < history[0]["train_loss"], history
    calc = load_calculator(result.best_path)
    assert calc.model.family == "mace" and calc.model.hyperparameters()["channels"] == 8
    atoms = cells[4].copy()
    atoms.calc = calc
    assert np.isfinite(atoms.get_forces()).all()
