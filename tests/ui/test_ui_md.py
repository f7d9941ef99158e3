"""Tiers 1 and 2: the MD tab's view models (form -> specs and schedules; runs, live thermo,
structure analysis, hand-over to the Conductivity tab) with real jobs, and its layout.

Runs use the sample Li-P-S model on the 64-atom Li3PS4 start of the seeded workspace, a
few hundred 2-fs steps each (a few seconds).
"""

from __future__ import annotations

import time

import numpy as np
import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.md_model import PROTOCOLS, MDForm, parse_supercell, parse_temperatures
from ssestudio.ui.md_runs import MDRuns, parse_thermo_text

START = "Li3PS4 random start (64 atoms)"
#: Form values of a short run.
SHORT = dict(structure=START, duration_ps=0.2, equilibration_ps=0.0, write_interval=5)


def wait_done(manager, ids, runs=None, timeout=120):
    deadline = time.monotonic() + timeout
    while not all(manager.get(i).done for i in ids):
        assert time.monotonic() < deadline, f"jobs {ids} did not finish"
        if runs is not None:
            runs.poll()
        time.sleep(0.2)
    if runs is not None:
        runs.poll()
    return [manager.get(i) for i in ids]


# ---- parsing -------------------------------------------------------------------------------
def test_parse_temperatures_and_supercell():
    assert parse_temperatures("600 700,800; 900K") == [600.0, 700.0, 800.0, 900.0]
    for bad in ("", "abc", "600 -5", "nan"):
        with pytest.raises(UserInputError, match="temperatures|temperature"):
            parse_temperatures(bad)
    assert parse_supercell("2 2 1") == (2, 2, 1)
    assert parse_supercell("2x3x1") == (2, 3, 1)
    assert parse_supercell("2") == (2, 2, 2)
    for bad in ("0 1 1", "1 2", "a b c"):
        with pytest.raises(UserInputError, match="supercell"):
            parse_supercell(bad)


def test_parse_thermo_text_drops_a_partly_written_line():
    text = "step,time_fs,T_K\n0,0,300\n10,20,310\n20,40,3"
    data = parse_thermo_text(text)
    assert data["T_K"].tolist() == [300.0, 310.0]
    assert parse_thermo_text(text + "05\n")["T_K"].tolist() == [300.0, 310.0, 305.0]
    assert parse_thermo_text("step,time_fs,T_K\n")["T_K"].size == 0


# ---- the form ------------------------------------------------------------------------------
def test_form_lists_models_first_and_builds_each_protocol(seeded_workspace):
    form = MDForm(seeded_workspace, **SHORT)
    assert form.engine.startswith("model:Li-P-S default")
    assert START in form.structure_options
    name, options = form.calculator()
    assert name == "model" and options["path"].endswith(".pt")

    single = form.specs()
    assert len(single) == 1 and single[0].n_steps == 100 and single[0].temperature_K == 600

    form.param.update(protocol="sweep", temperatures="500 700 900")
    sweep = form.specs()
    assert [s.temperature_K for s in sweep] == [500.0, 700.0, 900.0]
    schedules = form.schedules()
    assert [s["label"] for s in schedules] == ["500 K", "700 K", "900 K"]
    assert schedules[2]["temperature_K"] == [900.0, 900.0]

    form.param.update(protocol="ramp", temperature_K=300.0, end_temperature_K=800.0,
                      ensemble="npt-mtk-iso")
    (ramp,) = form.specs()
    assert ramp.end_temperature_K == 800.0 and ramp.ensemble == "npt-mtk-iso"
    assert form.schedules()[0]["temperature_K"] == [300.0, 800.0]

    form.param.update(protocol="meltquench", preset="quick")
    (mq,) = form.specs()
    assert mq.composition == "75Li2S-25P2S5" and mq.n_atoms == 200 and mq.overrides == ()
    stages = [s[0] for s in form.schedules()[0]["stages"]]
    assert stages[0] == "heat" and stages[-1] == "production" and "quench" in stages
    form.melt_K = 1300.0  # a changed field becomes an override, the others stay the preset's
    assert dict(form.specs()[0].overrides) == {"melt_K": 1300.0}
    form.preset = "workshop"  # a preset fills the fields again
    assert form.melt_K == 1500.0 and form.n_atoms == 256 and form.hold_ps == 20.0
    form.mq_source = "structure"
    assert form.specs()[0].structure == START and form.specs()[0].composition is None
    assert set(PROTOCOLS) == {"single", "sweep", "ramp", "meltquench"}


def test_form_errors_say_what_to_fix_and_submit_nothing(seeded_workspace, manager):
    form = MDForm(seeded_workspace, **SHORT)
    form.param.update(protocol="sweep", temperatures="600 six")
    with pytest.raises(UserInputError, match="'600 700 800 900'"):
        form.launch(manager)
    form.param.update(temperatures="600 700", duration_ps=0.0)
    with pytest.raises(UserInputError, match="at least one step"):
        form.launch(manager)
    form.param.update(duration_ps=0.2, structure="")
    with pytest.raises(UserInputError, match="choose a structure"):
        form.launch(manager)
    form.param.update(structure=START, protocol="single", pressure_GPa=1.0)
    with pytest.raises(UserInputError, match="NPT"):
        form.launch(manager)
    form.param.update(engine="")
    with pytest.raises(UserInputError, match="force field"):
        form.specs()
    assert manager.list() == []
    assert form.temperatures == "600 700"  # the form keeps what was typed


# ---- runs, thermo, analysis, hand-over ------------------------------------------------------
def test_runs_follow_thermo_analyse_and_send_a_sweep(seeded_workspace, manager):
    from ssestudio.ui.conductivity import ConductivityTab

    form = MDForm(seeded_workspace, **SHORT, protocol="sweep", temperatures="600 900")
    ids = form.launch(manager)
    runs = MDRuns(seeded_workspace, manager)
    runs.select(ids)
    assert runs.focus == ids[-1]
    jobs = wait_done(manager, ids, runs)
    assert [str(j.status) for j in jobs] == ["succeeded"] * 2, jobs[0].error
    assert [r["id"] for r in runs.runs] == ids[::-1]
    assert runs.runs[0]["note"].startswith("<T>") and not runs.running

    (label, tid), = runs.outputs.items()
    assert runs.output == tid == jobs[1].result["trajectory_id"]
    thermo = runs.thermo()
    assert len(thermo["time_ps"]) == jobs[1].result["n_frames"] == 21
    assert np.allclose(thermo["target_T_K"], 900.0)
    assert "frames" in runs.thermo_summary()[0]

    job = runs.analyse()
    wait_done(manager, [job], runs)
    analysis = runs.analysis()
    assert analysis["trajectory_id"] == tid and analysis["n_frames"] == 21
    assert analysis["per_frame"]["temperature_K"][0] == 900.0  # from the thermo log
    assert "PS4" in analysis["speciation"]["unit_fraction_by_former"]
    again = MDRuns(seeded_workspace, manager)  # a new page finds the earlier analysis
    again.select(ids)
    assert again.analysis()["trajectory_id"] == tid

    assert runs.sweep_trajectories() == [j.result["trajectory_id"] for j in jobs]
    conductivity = ConductivityTab(seeded_workspace, manager)
    sent = []
    runs.param.watch(lambda e: sent.append(conductivity.receive(e.new)), "sent")
    runs.send_to_conductivity()
    runs.send_to_conductivity()  # sending again submits again
    assert len(sent) == 2 and all(len(s) == 2 for s in sent)
    transport = [r for r in manager.list() if r.kind == "transport"]
    assert sorted(r.spec["params"]["temperature_K"] for r in transport) == [600, 600, 900, 900]


def test_send_needs_finished_constant_temperature_runs(seeded_workspace, manager):
    runs = MDRuns(seeded_workspace, manager)
    with pytest.raises(UserInputError, match="tick one or more finished runs"):
        runs.send_to_conductivity()
    with pytest.raises(UserInputError, match="tick a run"):
        runs.analyse()
    with pytest.raises(UserInputError, match="no MD"):
        runs.record(99)


# ---- layout --------------------------------------------------------------------------------
def test_tab_shows_the_fields_of_the_protocol_and_draws_the_schedule(seeded_workspace, manager):
    from ssestudio.ui.md import MDTab

    tab = MDTab(seeded_workspace, manager)
    pn.panel(tab).get_root()
    assert len(tab._schedule.objects) == 1 and "1 job" in tab._summary.object
    visible = {n for n, w in tab._fields.items() if w.visible}
    assert "temperature_K" in visible and "temperatures" not in visible
    tab.form.protocol = "meltquench"
    visible = {n for n, w in tab._fields.items() if w.visible}
    assert {"composition", "melt_K", "preset"} <= visible and "structure" not in visible
    tab.form.mq_source = "structure"
    assert tab._fields["structure"].visible and not tab._fields["composition"].visible
    tab.form.param.update(protocol="sweep", temperatures="hot")
    assert tab._summary.object.startswith("⚠ temperatures must be numbers")
    tab._guard(tab._on_launch)  # what the Launch button does
    assert tab._alert.alert_type == "danger" and manager.list() == []


def test_a_stopped_run_resumes_into_the_same_trajectory(seeded_workspace, manager):
    form = MDForm(seeded_workspace, **{**SHORT, "duration_ps": 1.0})
    (job,) = form.launch(manager)
    runs = MDRuns(seeded_workspace, manager)
    runs.select([job])
    deadline = time.monotonic() + 60
    while not (runs.outputs and runs.thermo() and len(runs.thermo()["time_ps"]) >= 3):
        assert time.monotonic() < deadline, "no frames written"
        runs.poll()
        time.sleep(0.2)
    assert not runs.resumable  # still running
    with pytest.raises(UserInputError, match="cancelled, failed or interrupted"):
        runs.resume()
    manager.cancel(job)
    (rec,) = wait_done(manager, [job], runs)
    assert str(rec.status) == "cancelled" and runs.resumable
    (tid,) = runs.outputs.values()
    kept = seeded_workspace.get_trajectory(tid).n_frames
    new = runs.resume()
    assert runs.focus == new and list(runs.outputs.values()) == [tid]  # same trajectory
    (done,) = wait_done(manager, [new], runs)
    assert str(done.status) == "succeeded", done.error
    assert seeded_workspace.get_trajectory(tid).n_frames == 101 > kept
    assert len(runs.thermo()["time_ps"]) == 101
