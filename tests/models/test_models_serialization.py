"""Saving, safe loading, TorchScript export, calculators and ensembles."""

import pickle

import numpy as np
import pytest
import torch
from ase.calculators.calculator import PropertyNotImplementedError  # noqa: F401

from ssestudio.core.errors import UserInputError
from ssestudio.models import build_model, load_model, save_ensemble, save_model
from ssestudio.models.calculator import EnsembleCalculator, ModelCalculator, load_calculator
from ssestudio.models.graph import atoms_to_batch
from ssestudio.models.serialization import export_torchscript, read_metadata
from tests.models.model_checks import lips_cell
from tests.models.test_models_builtin import model


def test_save_load_round_trip_keeps_predictions_metadata_and_dtype(tmp_path):
    m = model("large")
    m.set_reference_energies([-1.9, -5.4, -4.1])
    path = save_model(tmp_path / "m.pt", m, {"dataset": "lps@3", "epoch": 7})
    loaded, meta = load_model(path)
    assert meta == {"dataset": "lps@3", "epoch": 7} and read_metadata(path)["epoch"] == 7
    assert next(loaded.parameters()).dtype == torch.float64
    atoms = lips_cell()
    calc = load_calculator(path)
    assert isinstance(calc, ModelCalculator) and calc.metadata["dataset"] == "lps@3"
    atoms.calc = calc
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    ref = m(b, stress=True)
    assert atoms.get_potential_energy() == pytest.approx(float(ref["energy"].detach()), abs=1e-9)
    assert np.allclose(atoms.get_forces(), ref["forces"].detach().numpy(), atol=1e-9)
    assert atoms.get_stress().shape == (6,)
    assert atoms.get_potential_energies().sum() == pytest.approx(atoms.get_potential_energy())


def test_torchscript_export_runs_with_torch_alone_and_matches(tmp_path):
    m = model()
    path = export_torchscript(m, tmp_path / "m.ts")
    scripted = torch.jit.load(str(path))
    assert list(scripted.elements) == ["Li", "P", "S"] and scripted.cutoff_A == m.cutoff_A
    atoms = lips_cell(4)
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    out = scripted(b.species, b.positions, b.cell, b.batch, b.edge_index, b.shifts, 1, True)
    ref = m(b, stress=True)
    for key in ("energy", "forces", "stress"):
        assert torch.allclose(out[key].detach(), ref[key].detach(), atol=1e-10)


def test_loading_never_unpickles_objects(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))
    bad = tmp_path / "evil.pt"
    with open(bad, "wb") as fh:
        pickle.dump({"format": "ssestudio-model", "x": Evil()}, fh)
    torch.save({"format": "ssestudio-model", "obj": Evil()}, tmp_path / "evil2.pt")
    for path in (bad, tmp_path / "evil2.pt"):
        with pytest.raises(UserInputError, match="weights_only=True"):
            load_model(path)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "plain.pt")
    with pytest.raises(UserInputError, match="not an SSE Studio model"):
        load_calculator(tmp_path / "plain.pt")
    with pytest.raises(UserInputError, match="does not exist"):
        load_calculator(tmp_path / "missing.pt")


def test_calculator_rejects_structures_with_unknown_elements(tmp_path):
    m = build_model("default", ["Li", "S"])
    atoms = lips_cell()
    atoms.calc = load_calculator(save_model(tmp_path / "m.pt", m))
    with pytest.raises(UserInputError, match="contains P, which the model was not trained on"):
        atoms.get_potential_energy()


def test_ensemble_calculator_mean_and_dpgen_force_deviation(tmp_path):
    members = [model(seed=s) for s in range(3)]
    path = save_ensemble(tmp_path / "ens.pt", members, {"members": 3})
    loaded, meta = load_model(path)
    assert isinstance(loaded, list) and len(loaded) == 3 and meta["members"] == 3
    atoms = lips_cell(5)
    calc = load_calculator(path)
    assert isinstance(calc, EnsembleCalculator)
    atoms.calc = calc
    forces = atoms.get_forces()
    member_forces = []
    for m in members:
        b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
        member_forces.append(m(b)["forces"].detach().numpy())
    member_forces = np.stack(member_forces)
    assert np.allclose(forces, member_forces.mean(0), atol=1e-9)
    dev = np.sqrt(((member_forces - member_forces.mean(0)) ** 2).sum(-1).mean(0))
    assert np.allclose(calc.results["force_deviation"], dev, atol=1e-9)
    assert calc.results["max_force_deviation"] == pytest.approx(dev.max())
    assert calc.results["max_force_deviation"] > 0
    # identical members: zero deviation
    same = EnsembleCalculator([members[0], members[0]])
    atoms.calc = same
    atoms.get_forces()
    assert same.results["max_force_deviation"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(UserInputError, match="at least 2"):
        save_ensemble(tmp_path / "one.pt", members[:1])


def test_registered_as_the_model_calculator(tmp_path):
    from ssestudio.calculators import clear_calculator_cache, get_calculator

    m = model()
    run = tmp_path / "run"
    save_model(run / "best.pt", m)
    clear_calculator_cache()
    calc = get_calculator("model", path=str(run), num_threads=None)
    atoms = lips_cell()
    atoms.calc = calc
    b = atoms_to_batch([atoms], m.elements, m.cutoff_A, dtype=torch.float64)
    assert atoms.get_potential_energy() == pytest.approx(float(m(b)["energy"].detach()))
    with pytest.raises(UserInputError, match="no ensemble.pt or best.pt"):
        get_calculator("model", path=str(tmp_path), num_threads=None)
    clear_calculator_cache()


def test_float64_weights_load_bit_exact(tmp_path):
    m = model()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 1e-9)   # bits below float32 precision
    loaded, _ = load_model(save_model(tmp_path / "m.pt", m))
    for (name, a), b in zip(m.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name


def test_saved_files_get_the_usual_permissions(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    path = save_model(tmp_path / "m.pt", model())
    assert (path.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777)
