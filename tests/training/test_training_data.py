"""Training data: graphs of dataset splits, reference energies, energy scale, batch order."""

from __future__ import annotations

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.models.graph import StructureGraph
from ssestudio.training import (TrainConfig, batch_indices, bootstrap_indices, energy_scale,
                                load_training_data, reference_energies,
                                training_data_from_atoms)
from ssestudio.training.data import shard


def graph(counts, energy, forces_scale=0.0, rng=None):
    species = np.repeat(np.arange(len(counts)), counts)
    n = species.size
    forces = (rng.normal(scale=forces_scale, size=(n, 3)) if rng is not None
              else np.zeros((n, 3)))
    return StructureGraph(species, np.zeros((n, 3)), np.eye(3) * 10, np.zeros((2, 0), int),
                          np.zeros((0, 3)), energy=float(energy), forces=forces)


def test_reference_energies_recover_known_per_element_energies():
    rng = np.random.default_rng(0)
    e = np.array([-3.5, -1.25, -7.0])
    counts = rng.integers(1, 12, size=(20, 3))
    graphs = [graph(c, c @ e) for c in counts]
    np.testing.assert_allclose(reference_energies(graphs, 3), e, atol=1e-10)
    # an element absent from the data gets 0 (minimum-norm solution)
    np.testing.assert_allclose(reference_energies(graphs, 4), [*e, 0.0], atol=1e-10)


def test_collinear_compositions_give_the_minimum_norm_solution():
    e = np.array([-2.0, -5.0, -4.0])
    unit = np.array([3, 1, 4])                      # e.g. Li3PS4: every structure k * (3,1,4)
    graphs = [graph(k * unit, k * unit @ e) for k in (1, 2, 4)]
    refs = reference_energies(graphs, 3)
    np.testing.assert_allclose(refs, (unit @ e) / (unit @ unit) * unit, atol=1e-10)
    for g in graphs:  # still reproduces every energy
        assert np.bincount(g.species, minlength=3) @ refs == pytest.approx(g.energy)


def test_energy_scale_is_the_force_rms_or_the_energy_spread():
    rng = np.random.default_rng(1)
    e = np.array([-1.0, -2.0])
    graphs = [graph([8, 8], -24.0 + 0.1 * k, forces_scale=0.5, rng=rng) for k in range(50)]
    forces = np.concatenate([g.forces.ravel() for g in graphs])
    assert energy_scale(graphs, e) == pytest.approx(np.sqrt(np.mean(forces ** 2)))
    relaxed = [graph([8, 8], -24.0 + 1.6 * k) for k in range(3)]   # zero forces
    assert energy_scale(relaxed, e) == pytest.approx(np.std([0.0, 0.1, 0.2]))
    assert energy_scale([graph([8, 8], -24.0)], e) == 1.0


def test_batches_are_deterministic_per_seed_and_epoch():
    a = batch_indices(23, 5, seed=3, epoch=1)
    assert [len(b) for b in a] == [5, 5, 5, 5, 3]
    assert sorted(np.concatenate(a).tolist()) == list(range(23))
    assert all(np.array_equal(x, y) for x, y in zip(a, batch_indices(23, 5, seed=3, epoch=1)))
    assert not np.array_equal(np.concatenate(a),
                              np.concatenate(batch_indices(23, 5, seed=3, epoch=2)))
    assert np.array_equal(np.concatenate(batch_indices(7, 3, seed=0, epoch=1, shuffle=False)),
                          np.arange(7))
    idx = np.array([4, 9, 1, 7, 3])
    assert shard(idx, 0, 2).tolist() == [4, 1, 3] and shard(idx, 1, 2).tolist() == [9, 7]


def test_bootstrap_samples_with_replacement_reproducibly():
    a, b = bootstrap_indices(40, 0), bootstrap_indices(40, 1)
    assert a.size == 40 and a.min() >= 0 and a.max() < 40 and np.all(np.diff(a) >= 0)
    assert np.unique(a).size < 40                      # some drawn twice
    assert np.array_equal(a, bootstrap_indices(40, 0)) and not np.array_equal(a, b)


def test_training_data_from_atoms(cells, small_config, emt_data):
    assert emt_data.elements == ("Au", "Cu") and emt_data.cutoff_A == 4.0
    assert emt_data.counts() == {"train": 36, "validation": 12, "test": 12}
    g = emt_data.train[0]
    assert g.stress is not None and g.stress.shape == (3, 3) and g.edge_index.shape[0] == 2
    assert emt_data.with_train([0, 0, 1]).train == (g, g, emt_data.train[1])
    with pytest.raises(UserInputError, match="validation split of emt-cuau@1 is empty.*"
                                             "ssestudio dataset split"):
        training_data_from_atoms(small_config, cells["train"], [], reference="emt-cuau@1")
    with pytest.raises(UserInputError, match="train split of d is empty"):
        training_data_from_atoms(TrainConfig(dataset="d", model="test-eam"), [],
                                 cells["validation"])
    copper_only = [a for a in cells["train"] if "Au" not in a.get_chemical_symbols()]
    assert copper_only
    with pytest.raises(UserInputError, match="Au occur.* not in the train split"):
        training_data_from_atoms(small_config, copper_only, cells["validation"])




def _labelled_copies(atoms_list):
    from ase.calculators.singlepoint import SinglePointCalculator

    out = []
    for a in atoms_list:
        b = a.copy()
        b.calc = SinglePointCalculator(b, **a.calc.results)
        b.info = dict(a.info)
        out.append(b)
    return out


def test_load_training_data_from_a_dataset_folder_and_a_workspace(tmp_path, cells, ws):
    from ssestudio.data.records import SplitPolicy
    from ssestudio.jobs.dataset import create_dataset

    atoms = _labelled_copies(cells["train"][:20])
    config = TrainConfig(dataset="emt-cuau", model="test-eam",
                         model_options={"cutoff_A": 3.5})
    ds = create_dataset(ws, "emt-cuau", split=SplitPolicy(fractions=(0.6, 0.2, 0.2)))
    assert ds.add(atoms[:12]).version.version == 1
    assert ds.add(atoms[12:]).version.version == 2
    data = load_training_data(config, workspace=ws)
    assert data.reference == "emt-cuau@2" and data.cutoff_A == 3.5
    assert sum(data.counts().values()) == 20 and data.counts() == {
        s: len(ds.configurations(version=2, split=s)) for s in ("train", "validation", "test")}
    v1 = load_training_data(TrainConfig(dataset="emt-cuau@1", model="test-eam"),
                            dataset_dir=ds.folder)
    assert v1.reference == "emt-cuau@1" and sum(v1.counts().values()) == 12
    with pytest.raises(UserInputError, match="is named 'emt-cuau'.*asks for 'other'"):
        load_training_data(TrainConfig(dataset="other", model="test-eam"),
                           dataset_dir=ds.folder)
    with pytest.raises(UserInputError, match="no dataset named 'nope'"):
        load_training_data(TrainConfig(dataset="nope", model="test-eam"), workspace=ws)
    with pytest.raises(UserInputError, match="has no version 7"):
        load_training_data(TrainConfig(dataset="emt-cuau@7", model="test-eam"), workspace=ws)
    # everything in train: a clear error that names the command to re-split
    ds.resplit(SplitPolicy(fractions=(1.0, 0.0, 0.0)))
    with pytest.raises(UserInputError, match="validation split of emt-cuau@3 is empty"):
        load_training_data(config, workspace=ws)
