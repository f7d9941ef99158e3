"""Labelling with a teacher: resumable (cancelled or killed runs), rejections, real teachers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from teacher_helpers import copper_configs, count_calls

from ssestudio.core.errors import UserInputError
from ssestudio.data.labelling import label_pending
from ssestudio.data.store import Dataset
from ssestudio.data.teachers import available_teachers, get_teacher, label_batch

COUNTING = "tests.data.teacher_helpers:CountingEMT"


def test_cancelled_run_resumes_without_relabelling(tmp_path):
    log = str(tmp_path / "calls.log")
    ds = Dataset.create(tmp_path / "d", name="cu")
    ds.add(copper_configs(10))
    teacher = get_teacher(COUNTING, options={"log": log})
    batches = []
    report = label_pending(ds, teacher, batch_size=3, progress=lambda f, m: batches.append(f),
                           cancelled=lambda: len(batches) >= 2)
    assert (report.labelled, report.remaining, report.version) == (6, 4, None)
    assert ds.status_counts()["staged"] == 6 and count_calls(log) == 6
    before = {a.info["row_id"]: a.get_potential_energy()
              for a in (ds.get(r.id) for r in ds.rows(status="labelled"))}
    again = label_pending(ds, teacher, batch_size=3)
    assert again.labelled == 4 and count_calls(log) == 10  # only the 4 remaining rows
    assert again.version.version == 1 and again.version.n_configurations == 10
    after = {a.info["row_id"]: a.get_potential_energy() for a in ds.configurations()}
    assert all(after[k] == before[k] for k in before)
    assert all(a.info["provenance"]["level"].startswith(COUNTING) for a in ds.configurations())
    np.testing.assert_allclose(  # labels are the teacher's (EMT) values
        ds.configurations()[0].get_forces(),
        _emt_forces(ds.configurations()[0]), atol=1e-10)


def _emt_forces(atoms):
    from ase.calculators.emt import EMT

    work = atoms.copy()
    work.calc = EMT()
    return work.get_forces()


_KILL_SCRIPT = """
import sys
from ssestudio.data.labelling import label_pending
from ssestudio.data.store import Dataset
from ssestudio.data.teachers import get_teacher
ds = Dataset.open(sys.argv[1])
label_pending(ds, get_teacher("%s", options={"log": sys.argv[2], "delay_s": 0.15}), batch_size=2)
""" % COUNTING


def test_killed_run_resumes_without_relabelling_finished_rows(tmp_path):
    log = str(tmp_path / "calls.log")
    ds = Dataset.create(tmp_path / "d", name="cu")
    ds.add(copper_configs(12))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), *sys.path])}
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(ds.folder), log], env=env)
    deadline = time.monotonic() + 60
    while Dataset.open(ds.folder).status_counts()["labelled"] < 4:
        assert proc.poll() is None and time.monotonic() < deadline, "labelling did not start"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    counts = Dataset.open(ds.folder).status_counts()
    done, calls_before = counts["labelled"], count_calls(log)
    assert 4 <= done < 12 and counts["pending"] == 12 - done
    assert calls_before - done <= 2  # at most the batch in flight was lost
    report = label_pending(Dataset.open(ds.folder), get_teacher(COUNTING, options={"log": log}),
                           batch_size=4)
    assert report.labelled == 12 - done and count_calls(log) == calls_before + 12 - done
    assert Dataset.open(ds.folder).version().n_configurations == 12


def test_failing_or_wild_labels_are_rejected_with_reasons(tmp_path):
    ds = Dataset.create(tmp_path / "d", name="cu")
    configs = copper_configs(3)
    configs[1].positions[0] = configs[1].positions[1] + 0.3  # overlapping atoms: huge forces
    ds.add(configs)
    report = label_pending(ds, get_teacher("emt"), max_force_eV_A=20.0)
    assert (report.labelled, report.rejected) == (2, 1)
    (row,) = ds.rows(status="rejected")
    assert "sanity bound 20 eV/Å" in row.data["reject_reason"]
    (labels, error), = label_batch(get_teacher("emt"), [_li2s()])  # EMT has no Li: it raises
    assert labels is None and "Li" in error


def test_unknown_teacher_and_listing():
    with pytest.raises(UserInputError, match="unknown teacher 'dft-magic'"):
        get_teacher("dft-magic")
    names = {t["name"] for t in available_teachers()}
    assert {"sevenn", "chgnet", "sevenn-l3i5"} <= names
    assert get_teacher("sevenn").level == "sevenn:7net-0"
    assert get_teacher("sevenn", options={"num_threads": 2}).level == "sevenn:7net-0(num_threads=2)"


def _li2s():
    from ase.spacegroup import crystal

    atoms = crystal(["Li", "S"], [(0.25, 0.25, 0.25), (0, 0, 0)], spacegroup=225,
                    cellpar=[5.71, 5.71, 5.71, 90, 90, 90])
    atoms.rattle(0.05, seed=1)
    return atoms


@pytest.mark.parametrize("name", ["sevenn", "chgnet"])
def test_real_teacher_labels_li2s(name):
    pytest.importorskip(name)
    pytest.importorskip("torch")
    teacher = get_teacher(name)
    configs = [_li2s(), _li2s()]
    configs[1].positions[0] += 0.1
    labels = label_batch(teacher, configs, batch_size=2)
    single = label_batch(teacher, configs[:1])[0][0]
    if teacher.batch is not None:  # the GPU path (batched model call) agrees, checked on CPU
        labels = teacher.batch(teacher.build(), configs, 2)
    for (lab, err), atoms in zip(labels, configs):
        assert err is None and lab["forces"].shape == (len(atoms), 3)
        assert -6.0 < lab["energy"] / len(atoms) < -2.0  # eV/atom, a Li2S-like cohesive scale
        assert np.abs(lab["forces"].sum(axis=0)).max() < 1e-3  # no net force
        assert lab["stress"].shape == (6,)
    # the batched path (CHGNet on GPU) agrees with the one-by-one calculator
    np.testing.assert_allclose(labels[0][0]["forces"], single["forces"], atol=2e-4)
    assert labels[0][0]["energy"] == pytest.approx(single["energy"], abs=1e-3)
    np.testing.assert_allclose(labels[0][0]["stress"], single["stress"], atol=1e-5)
