"""Checkpoints: a stopped or killed run resumes and continues the same trajectory,
bit for bit (EMT is deterministic), without duplicated frames."""

import numpy as np
import pytest
from mdtest_helpers import copper

from ssestudio.calculators import get_calculator
from ssestudio.core.errors import UserInputError
from ssestudio.io import open_trajectory
from ssestudio.md import (MDConfig, Output, equilibrate, load_checkpoint, open_md_writer,
                          read_thermo, reopen_trajectory, run_md, run_protocol,
                          temperature_ramp)

BASE = MDConfig(timestep_fs=4.0, write_interval=5, barostat_time_fs=400.0)


class Killed(BaseException):
    """Stands in for SIGKILL: nothing of the runner's cleanup saves a checkpoint."""


def _protocol():
    """Every integrator once, with a ramp: 6 stages, 325 steps."""
    return (equilibrate(300.0, 0.2, ensemble="nvt-langevin", base=BASE)
            + temperature_ramp(300.0, 600.0, rate_K_per_ps=1000.0, ensemble="nvt-bussi",
                               base=BASE, name="heat")
            + equilibrate(600.0, 0.2, ensemble="nvt-nhc", base=BASE, name="nhc")
            + equilibrate(600.0, 0.2, ensemble="npt-mtk-iso", base=BASE, name="iso")
            + equilibrate(600.0, 0.2, ensemble="npt-mtk-aniso", base=BASE, name="aniso")
            + equilibrate(600.0, 0.2, ensemble="npt-mtk-axes", base=BASE, name="axes")
            ).with_seed(5)


class _KillingEMT:
    """EMT calculator factory whose instances raise :class:`Killed` at call ``at``."""

    def __init__(self, at):
        from ase.calculators.emt import EMT

        class Calc(EMT):
            calls = 0

            def calculate(self, *args, **kwargs):
                Calc.calls += 1
                if Calc.calls == at:
                    raise Killed
                super().calculate(*args, **kwargs)

        self.calc = Calc()


def _run(tmp_path, tag, *, calc=None, should_stop=None, resume=None, interval=40):
    atoms = copper(1)
    path = tmp_path / f"{tag}.h5"
    writer = (open_md_writer(path, atoms, BASE) if resume is None
              else reopen_trajectory(path, resume.outputs["main"]["frames"]))
    try:
        result = run_protocol(atoms, calc or get_calculator("emt"), _protocol(),
                              outputs={"main": Output(writer, tmp_path / f"{tag}.csv")},
                              should_stop=should_stop, checkpoint_path=tmp_path / f"{tag}.npz",
                              checkpoint_interval=interval, resume=resume)
    finally:
        writer.close()
    return atoms, result


def _assert_same_run(tmp_path, a, b, atoms_a, atoms_b):
    np.testing.assert_array_equal(atoms_a.positions, atoms_b.positions)
    np.testing.assert_array_equal(atoms_a.cell[:], atoms_b.cell[:])
    with open_trajectory(str(tmp_path / f"{a}.h5")) as ta, \
            open_trajectory(str(tmp_path / f"{b}.h5")) as tb:
        assert ta.n_frames == tb.n_frames == 66
        np.testing.assert_array_equal(ta.times_fs(), tb.times_fs())
        assert (np.diff(tb.times_fs()) == 20.0).all()  # no duplicated or missing frame
        np.testing.assert_array_equal(ta.positions(), tb.positions())
        np.testing.assert_array_equal(ta.cells(), tb.cells())
    ra, rb = read_thermo(tmp_path / f"{a}.csv"), read_thermo(tmp_path / f"{b}.csv")
    np.testing.assert_array_equal(ra["step"], rb["step"])
    np.testing.assert_array_equal(ra["Etot_eV"], rb["Etot_eV"])


def test_cancelled_run_resumes_exactly_where_it_stopped(tmp_path):
    full_atoms, full = _run(tmp_path, "full")
    assert full.n_frames == {"main": 66} and len(full.stages) == 6

    class Cancelled(Exception):
        pass

    calls = []

    def cancel_at_37():
        calls.append(1)
        if len(calls) == 37:
            raise Cancelled

    with pytest.raises(Cancelled):
        _run(tmp_path, "part", should_stop=cancel_at_37)
    ckpt = load_checkpoint(tmp_path / "part.npz")
    assert (ckpt.stage, ckpt.step) == (3, 5)  # saved at the cancel, inside the MTK stage
    assert ckpt.outputs["main"]["frames"] == 37 and len(ckpt.stage_results) == 3
    atoms, resumed = _run(tmp_path, "part", resume=ckpt)
    _assert_same_run(tmp_path, "full", "part", full_atoms, atoms)
    assert [r.mean_T_K for r in resumed.stages] == [r.mean_T_K for r in full.stages]
    assert resumed.n_steps_done == full.n_steps_done == 325


def test_killed_run_resumes_from_its_last_checkpoint_without_duplicates(tmp_path):
    full_atoms, _ = _run(tmp_path, "full")
    with pytest.raises(Killed):
        _run(tmp_path, "killed", calc=_KillingEMT(at=210).calc)  # in the NHC stage
    ckpt = load_checkpoint(tmp_path / "killed.npz")
    with open_trajectory(str(tmp_path / "killed.h5")) as traj:
        written = traj.n_frames
    assert written == 42 and ckpt.outputs["main"]["frames"] == 36  # 6 frames are redone
    atoms, _ = _run(tmp_path, "killed", resume=ckpt)
    _assert_same_run(tmp_path, "full", "killed", full_atoms, atoms)


def test_resume_refuses_another_protocol_or_a_mismatched_writer(tmp_path):
    config = MDConfig(ensemble="nvt-bussi", n_steps=20, write_interval=5, seed=1)
    atoms = copper(1)
    run_md(atoms, get_calculator("emt"), config, checkpoint_path=tmp_path / "c.npz")
    ckpt = load_checkpoint(tmp_path / "c.npz")
    assert ckpt.step == 20 and ckpt.seed == 1
    with pytest.raises(UserInputError, match="different protocol"):
        run_md(copper(1), get_calculator("emt"), MDConfig(ensemble="nvt-bussi", n_steps=30,
                                                          write_interval=5), resume=ckpt)
    with pytest.raises(UserInputError, match="written with seed 1"):
        run_md(copper(1), get_calculator("emt"),
               MDConfig(ensemble="nvt-bussi", n_steps=20, write_interval=5, seed=2),
               resume=ckpt)
    with open_md_writer(tmp_path / "w.h5", atoms, config) as writer:
        with pytest.raises(UserInputError, match="the writer holds 0 frames"):
            run_md(copper(1), get_calculator("emt"), config, writer=writer, resume=ckpt)
    with pytest.raises(UserInputError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.npz")


def test_finished_run_resumed_does_nothing_more(tmp_path):
    config = MDConfig(ensemble="nvt-langevin", n_steps=20, write_interval=5, seed=1)
    atoms = copper(1)
    first = run_md(atoms, get_calculator("emt"), config, checkpoint_path=tmp_path / "c.npz")
    again = copper(1)
    second = run_md(again, get_calculator("emt"), config,
                    resume=load_checkpoint(tmp_path / "c.npz"))
    np.testing.assert_array_equal(atoms.positions, again.positions)
    assert second.n_steps_done == first.n_steps_done == 20
    assert second.mean_T_K == first.mean_T_K


def test_reopen_trajectory_keeps_metadata_and_refuses_too_many_frames(tmp_path):
    atoms = copper(1)
    config = MDConfig(n_steps=20, write_interval=5, seed=1)
    with open_md_writer(tmp_path / "t.h5", atoms, config, metadata={"who": "me"}) as writer:
        run_md(atoms, get_calculator("emt"), config, writer=writer)
    with pytest.raises(UserInputError, match="holds 5 frames but its checkpoint counts 9"):
        reopen_trajectory(tmp_path / "t.h5", 9)
    writer = reopen_trajectory(tmp_path / "t.h5", 3)
    assert writer.path == tmp_path / "t.h5" and writer.n_frames == 3
    writer.close()
    with open_trajectory(str(tmp_path / "t.h5")) as traj:
        assert traj.n_frames == 3 and traj.info.extra["metadata"]["who"] == "me"
        assert traj.info.has_velocities and traj.info.extra["has_stress"]
    assert not (tmp_path / "t.h5.resume").exists()
