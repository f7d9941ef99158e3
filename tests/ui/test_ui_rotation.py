"""Tiers 1 and 2: the Paddle-wheel explorer's view model with real ``rotation`` jobs (on
synthetic PS4 rotor trajectories whose rotations trigger Li hops), and its layout: events
and coincident pairs turn into a frame and highlighted atoms in the viewer."""

from __future__ import annotations

import time

import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.rotation_model import CUSTOM, RotationExplorer


def add_paddle(workspace, name: str, *, seed: int, jump_rate_per_ps: float = 0.3,
               temperature_K: float | None = None):
    """A registered synthetic run: 27 PS4 jumping by 120°, each jump triggering a Li hop."""
    from ssestudio.analysis.rotation.synthetic import RotorModel, simulate

    run = simulate(RotorModel(n_frames=600, timestep_fs=10.0, jump_rate_per_ps=jump_rate_per_ps,
                              trigger_probability=1.0, seed=seed))
    path = workspace.root / "uploads" / f"{name}.h5"
    path.parent.mkdir(exist_ok=True)
    run.write(path)
    provenance = None if temperature_K is None else {
        "parameters": {"temperature_K": temperature_K, "ensemble": "nvt-bussi"}}
    return run, workspace.import_trajectory(path, name=name, provenance=provenance)


def wait_loaded(model, job_id, timeout=120):
    deadline = time.monotonic() + timeout
    while not model.manager.get(job_id).done:
        assert time.monotonic() < deadline, f"job {job_id} did not finish"
        time.sleep(0.2)
    model.refresh_results()
    return model.manager.get(job_id)


@pytest.fixture(scope="module")
def explored(tmp_path_factory, sample_data_dir):
    """Two analysed rotor runs (500 K and 700 K), the second one shown."""
    from ssestudio.jobs import JobManager, LocalExecutor
    from ssestudio.workspace import Workspace

    ws = Workspace.open(tmp_path_factory.mktemp("rot") / "ws", sample_dir=sample_data_dir)
    manager = JobManager(ws, LocalExecutor(max_workers=2), poll_interval_s=0.2)
    runs = [add_paddle(ws, "rotor-500K", seed=1, jump_rate_per_ps=0.2, temperature_K=500.0),
            add_paddle(ws, "rotor-700K", seed=2, jump_rate_per_ps=0.4, temperature_K=700.0)]
    model = RotationExplorer(ws, manager)
    jobs = []
    for _, traj in runs:
        model.trajectory = traj.id
        assert model.temperature_K == float(traj.name[6:9])  # from the provenance
        jobs.append(model.analyse())
    for job in jobs:
        rec = wait_loaded(model, job)
        assert str(rec.status) == "succeeded", rec.error
    yield model, runs, jobs
    manager.close()
    ws.close()


def test_analyses_open_when_they_finish(explored):
    model, runs, jobs = explored
    assert [r["id"] for r in model.results] == jobs[::-1]
    assert model.selected == jobs and model.shown == jobs[1]
    d = model.data()
    assert d["trajectory"] == "rotor-700K" and d["temperature_K"] == 700.0
    # jumps within half a window of either end cannot be detected
    assert 0 <= len(runs[1][0].rotation_frame) - d["rotation_events"] <= 2
    assert model.results[0]["enrichment"] > 1.5 and "–" in model.results[0]["ci"]


def test_events_and_pairs_become_frames_and_highlighted_atoms(explored):
    model, runs, _ = explored
    d = model.data()
    events = model.event_rows()
    assert len(events) == d["rotation_events"] + d["hop_events"]
    assert [e["time_ps"] for e in events] == sorted(e["time_ps"] for e in events)
    rot = next(e for e in events if e["kind"] == "rotation")
    frame, atoms, caption = model.view_of("rotation", rot["i"])
    assert frame == rot["frame"] and len(atoms) == 5  # P + 4 S
    assert [runs[1][0].symbols[a] for a in atoms] == ["P", "S", "S", "S", "S"]
    assert "rotated" in caption
    hop = next(e for e in events if e["kind"] == "hop")
    frame, atoms, caption = model.view_of("hop", hop["i"])
    assert len(atoms) == 1 and "hopped" in caption
    pairs = model.pair_rows()
    assert len(pairs) == d["coincidences_observed"] > 0
    frame, atoms, caption = model.view_of("pair", 0)
    assert len(atoms) == 6 and "rotated" in caption and "hopped" in caption
    assert frame == d["events"]["hop"]["trajectory_frame"][d["pairs"]["hop"][0]]
    for kind, i, match in (("pair", 10**6, "no pair"), ("hop", -1, "no hop"),
                           ("spin", 0, "unknown event kind")):
        with pytest.raises(UserInputError, match=match):
            model.view_of(kind, i)


def test_reorientation_arrhenius_over_the_ticked_temperatures(explored):
    model, _, jobs = explored
    fit, points = model.reorientation_arrhenius()
    assert points["T_K"] == [700.0, 500.0] and fit is not None
    assert fit.Ea_eV > 0  # jumps are twice as frequent at 700 K
    model.select(jobs[1:])
    fit, points = model.reorientation_arrhenius()
    assert fit is None and len(points["T_K"]) == 1
    model.select(jobs)


def test_form_errors_say_what_to_fix(explored):
    model, _, _ = explored
    model.anion = CUSTOM
    with pytest.raises(UserInputError, match="centre and ligand"):
        model.spec()
    model.param.update(centre="P", ligands="S", n_ligands=4)
    spec = model.spec()
    assert spec.centre == "P" and spec.ligands == "S"
    model.anion = "PS4"
    saved, model.trajectory = model.trajectory, None
    with pytest.raises(UserInputError, match="choose a trajectory"):
        model.spec()
    model.trajectory = saved


def test_tab_draws_the_result_and_jumps_the_viewer(explored):
    from ssestudio.ui.rotation import PaddleWheelTab

    model, _, jobs = explored
    tab = PaddleWheelTab(model.workspace, model.manager)
    tab.model.select(jobs)
    pn.panel(tab).get_root()
    assert tab._verdict.object.startswith("**PS4 rotations coincide with Li hops")
    assert len(tab._figures.objects) == 5  # C1/C2, angles, enrichment, xcorr, Arrhenius
    assert len(tab._raster.objects) == 1 and len(tab._events.value) == len(tab.model.pair_rows())
    tab._events.selection = [0]  # a click on the first pair
    frame, atoms, _ = tab.model.view_of("pair", 0)
    assert tab.player.frame == frame and tab.player.highlight == ", ".join(map(str, atoms))
    assert tab._caption.object.startswith(f"**Frame {frame}**")
    tab._which.value = "events"
    assert len(tab._events.value) == len(tab.model.event_rows())
    tab._tapper("hop")("indices", [], [3])  # a tap on the raster's fourth hop
    assert tab.player.frame == tab.model.view_of("hop", 3)[0]
