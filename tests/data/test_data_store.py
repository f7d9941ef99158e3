"""The dataset store: de-duplication, pending/labelled/rejected rows, versions, splits."""

from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.singlepoint import SinglePointCalculator
from teacher_helpers import copper_configs

from ssestudio.core.errors import UserInputError
from ssestudio.data.records import SplitPolicy, check_labels, content_hash
from ssestudio.data.store import Dataset, parse_reference


def labelled(configs, *, energy=-3.0):
    out = []
    for i, atoms in enumerate(configs):
        atoms = atoms.copy()
        atoms.calc = SinglePointCalculator(atoms, energy=energy - 0.01 * i,
                                           forces=np.full((len(atoms), 3), 0.1 * i),
                                           stress=np.array([-0.01, -0.02, -0.03, 0.001, 0.002, 0.003]))
        atoms.info["provenance"] = {**configs[i].info["provenance"], "level": "DFT"}
        out.append(atoms)
    return out


def test_add_deduplicates_and_versions(tmp_path):
    ds = Dataset.create(tmp_path / "d", name="cu")
    configs = copper_configs(12)
    report = ds.add(labelled(configs[:6]) + configs[6:] + labelled(configs[:2]))
    assert len(report.added) == 12 and report.duplicates == 2
    assert (report.labelled, report.pending) == (6, 6) and report.version.version == 1
    assert ds.status_counts() == {"pending": 6, "labelled": 6, "rejected": 0, "staged": 0}
    v1 = ds.configurations(version=1)
    assert len(v1) == 6 and all(a.info["provenance"]["level"] == "DFT" for a in v1)
    first = next(a for a in v1 if a.info["row_id"] == report.added[0])
    assert first.get_potential_energy() == pytest.approx(-3.0)
    np.testing.assert_allclose(first.get_stress(), [-0.01, -0.02, -0.03, 0.001, 0.002, 0.003])
    # labels for the pending rows make version 2; version 1 is unchanged
    pending = ds.pending_ids()
    lab = {"energy": -1.0, "forces": np.zeros((32, 3))}
    assert ds.set_labels([(i, lab, None) for i in pending], level="emt") == (6, 0)
    assert ds.commit_version("labelled").version == 2
    assert len(ds.configurations(version=1)) == 6 and len(ds.configurations()) == 12
    assert ds.commit_version("nothing new") is None
    reopened = Dataset.open(tmp_path / "d" / "dataset.db")
    assert [v.version for v in reopened.versions()] == [1, 2] and reopened.name == "cu"


def test_rejections_are_recorded_with_their_reason(tmp_path):
    ds = Dataset.create(tmp_path / "d", name="cu")
    bad = labelled(copper_configs(3))
    bad[0].calc.results["energy"] = float("nan")
    bad[1].calc.results["forces"][0, 0] = 500.0
    report = ds.add(bad)
    assert report.labelled == 1
    reasons = sorted(r.data["reject_reason"] for r in ds.rows(status="rejected"))
    assert "not finite" in reasons[0] and "exceeds the sanity bound 50 eV/Å" in reasons[1]
    row = ds.add(copper_configs(1, seed=5)).added[0]
    assert ds.set_labels([(row, None, "RuntimeError: teacher crashed")], level="x") == (0, 1)
    assert ds.get(row).info["status"] == "rejected"


def test_splits_are_reproducible_stable_and_by_group(tmp_path):
    policy = SplitPolicy(fractions=(0.6, 0.2, 0.2), seed=3)
    a = Dataset.create(tmp_path / "a", name="a", split=policy)
    b = Dataset.create(tmp_path / "b", name="b", split=policy)
    configs = labelled(copper_configs(40))
    a.add(configs)
    b.add(configs[:20])
    b.add(configs[20:])
    split_a = {content_hash(x): x.info["split"] for x in a.configurations()}
    split_b = {content_hash(x): x.info["split"] for x in b.configurations()}
    assert split_a == split_b  # same rows, same splits, whatever the order of adding
    counts = a.version().counts
    assert sum(counts.values()) == 40 and min(counts.values()) > 0
    old = {c.info["row_id"]: c.info["split"] for c in a.configurations()}
    v = a.resplit(SplitPolicy(fractions=(0.5, 0.25, 0.25), by="group", seed=1))
    assert v.version == 2
    groups = {}
    for c in a.configurations():
        groups.setdefault(c.info["provenance"]["group"], set()).add(c.info["split"])
    assert all(len(s) == 1 for s in groups.values())  # a group never straddles splits
    assert {c.info["row_id"]: c.info["split"] for c in a.configurations(version=1)} == old
    assert len(a.configurations(version=2, split="train")) == v.counts["train"]
    assert v.warnings == () or "empty" in v.warnings[0]
    few = Dataset.create(tmp_path / "c", name="c", split=SplitPolicy(by="group"))
    (w,) = few.add(labelled(copper_configs(2))).version.warnings  # 2 groups, 3 splits
    assert "too few groups (2)" in w


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(UserInputError, match="no dataset in"):
        Dataset.open(tmp_path)
    ds = Dataset.create(tmp_path / "d", name="cu")
    with pytest.raises(UserInputError, match="already holds a dataset"):
        Dataset.create(tmp_path / "d", name="cu")
    with pytest.raises(UserInputError, match="no version yet"):
        ds.configurations()
    ds.add(labelled(copper_configs(2)))
    with pytest.raises(UserInputError, match="no version 7; versions: 1"):
        ds.configurations(version=7)
    with pytest.raises(UserInputError, match="split must be one of"):
        ds.configurations(split="training")
    with pytest.raises(UserInputError, match="sum"):
        SplitPolicy(fractions=(0.5, 0.5, 0.5))
    assert parse_reference("li@3") == ("li", 3) and parse_reference("li") == ("li", None)
    with pytest.raises(UserInputError, match="NAME@N"):
        parse_reference("li@latest")
    atoms = copper_configs(1)[0]
    assert "shape" in check_labels(atoms, {"energy": 0.0, "forces": np.zeros((3, 3))})
