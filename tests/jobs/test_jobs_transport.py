"""The ``transport`` job: analysis of a workspace trajectory, saved MSD, re-fit from it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.jobs import JobCancelled, JobContext, JobStatus, execute_job, store
from ssestudio.jobs.manager import serialise_spec
from ssestudio.jobs.transport import TransportSpec, load_transport, parse_charges

#: Boltzmann constant, eV/K.
K_B = 8.617333262e-5


def walker_D_A2_ps(temperature_K: float, *, Ea_eV: float = 0.2, D600_A2_ps: float = 0.5) -> float:
    """Arrhenius D (Å^2/ps) of the synthetic walkers, ``D600_A2_ps`` at 600 K."""
    return D600_A2_ps * np.exp(-Ea_eV / K_B * (1 / temperature_K - 1 / 600.0))


def add_walker_trajectory(ws, name: str, *, temperature_K: float, seed: int = 0,
                          n_li: int = 50, n_frames: int = 400, timestep_fs: float = 10.0,
                          box_A: float = 12.0, record_temperature: bool = True):
    """Register a native trajectory of ``n_li`` Li Gaussian walkers of known D (Arrhenius,
    see :func:`walker_D_A2_ps`) and 10 static S atoms, wrapped into a cubic box.

    Returns the trajectory record; D in Å^2/ps is ``walker_D_A2_ps(temperature_K)``.
    """
    from ssestudio.io import TrajectoryWriter, wrap_positions

    rng = np.random.default_rng(seed)
    sigma = np.sqrt(2 * walker_D_A2_ps(temperature_K) * timestep_fs / 1000.0)
    steps = rng.normal(scale=sigma, size=(n_frames, n_li, 3))
    steps[0] = rng.random((n_li, 3)) * box_A
    frame = rng.random((1, 10, 3)) * box_A + rng.normal(scale=0.05, size=(n_frames, 10, 3))
    cells = np.broadcast_to(np.eye(3) * box_A, (n_frames, 3, 3))
    positions = wrap_positions(np.concatenate([np.cumsum(steps, axis=0), frame], axis=1), cells)
    path = ws.root / "uploads" / f"{name}.h5"
    path.parent.mkdir(exist_ok=True)
    with TrajectoryWriter(path, ["Li"] * n_li + ["S"] * 10, timestep_fs=timestep_fs,
                          flush_every=10**6, overwrite=True) as writer:
        writer.extend(positions, cells)
    params = {"temperature_K": temperature_K} if record_temperature else {}
    return ws.import_trajectory(path, name=name, provenance={"parameters": params})


def run_in_process(ws, spec: TransportSpec):
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    status = execute_job(ws, job_id, executor="test")
    return status, store.get_job(ws, job_id)


@pytest.fixture
def walkers(ws):
    return add_walker_trajectory(ws, "walk-600K", temperature_K=600.0, seed=3)


def test_job_recovers_D_and_saves_msd_and_fits(ws, walkers):
    status, rec = run_in_process(ws, TransportSpec(trajectory=walkers.name, temperature_K=600))
    assert status is JobStatus.SUCCEEDED, rec.error
    r = rec.result
    assert r["trajectory_id"] == walkers.id and r["trajectory"] == "walk-600K"
    true_D = walker_D_A2_ps(600.0) * 1e-4  # cm^2/s
    assert abs(r["D_cm2_s"] - true_D) < 4 * r["D_err_cm2_s"] + 0.05 * true_D
    for key in ("D_err_cm2_s", "D_hop_err_cm2_s", "sigma_mS_cm", "sigma_err_mS_cm",
                "haven_ratio", "haven_ratio_err", "n_eff_hops"):
        assert r[key] is not None and r[key] > 0, key
    assert isinstance(r["diffusive"], bool) and isinstance(r["warnings"], list)
    assert r["temperature_K"] == 600.0 and r["n_ions"] == 50 and r["n_frames"] == 400
    saved = load_transport(ws.job_dir(rec.id))
    assert set(r["files"]) == {"msd", "summary"}
    assert saved.summary == {k: v for k, v in r.items()
                             if k not in ("trajectory_id", "trajectory", "files")}
    assert saved.msd.n_frames == 400 and np.isfinite(saved.msd.msd_sem_A2[1:]).all()
    assert saved.charge_msd.collective and saved.charge_msd.charges == {"Li": 1.0}
    json.loads((ws.job_dir(rec.id) / "transport.json").read_text())  # strict-enough JSON
    assert "progress" not in (rec.error or "") and rec.progress == 1.0


def test_refit_from_saved_msd(ws, walkers):
    _, rec = run_in_process(ws, TransportSpec(trajectory=walkers.id, temperature_K=600))
    saved = load_transport(ws.job_dir(rec.id))
    same = saved.refit(tuple(rec.result["fit_window_ps"])).to_dict()
    assert same["D_cm2_s"] == pytest.approx(rec.result["D_cm2_s"], rel=1e-12)
    assert same["sigma_mS_cm"] == pytest.approx(rec.result["sigma_mS_cm"], rel=1e-12)
    other = saved.refit((0.5, 3.0)).to_dict()
    assert other["fit_window_ps"] == pytest.approx([0.5, 3.0]) and not other["fit_window_auto"]
    assert other["D_cm2_s"] != same["D_cm2_s"]
    assert saved.refit(None).to_dict()["fit_window_ps"] == rec.result["fit_window_ps"]
    with pytest.raises(UserInputError, match="fit window"):
        saved.refit((1.0, 99.0))


def test_given_window_charges_and_timestep_override(ws, walkers):
    spec = TransportSpec(trajectory=str(walkers.id), temperature_K=600, charges="Li=2",
                         fit_window_ps=(0.2, 1.5), timestep_fs=20.0)
    status, rec = run_in_process(ws, spec)
    assert status is JobStatus.SUCCEEDED, rec.error
    assert rec.result["charges"] == {"Li": 2.0} and rec.result["timestep_fs"] == 20.0
    assert rec.result["fit_window_ps"] == pytest.approx([0.2, 1.5])
    assert rec.result["duration_ps"] == pytest.approx(399 * 0.02)


def test_spec_validation_and_json_round_trip():
    spec = TransportSpec(trajectory=3, charges={"Li": 1}, fit_window_ps=[0.1, 2],
                         temperature_K=500)
    assert spec.charges == (("Li", 1.0),) and spec.fit_window_ps == (0.1, 2.0)
    assert serialise_spec(spec)["params"]["charges"] == [["Li", 1.0]]
    assert parse_charges("Li=1, Mg=2") == (("Li", 1.0), ("Mg", 2.0))
    for bad, match in (({"charges": "Li:1"}, "Li=1"), ({"temperature_K": -5}, "temperature_K"),
                       ({"fit_window_ps": (2, 1)}, "t0 < t1"), ({"species": ""}, "species"),
                       ({"timestep_fs": 0}, "timestep_fs")):
        with pytest.raises(UserInputError, match=match):
            TransportSpec(trajectory=1, **bad)
    with pytest.raises(UserInputError, match="trajectory"):
        TransportSpec(trajectory="  ")


def test_preflight_and_bad_species_fail_clearly(ws, walkers):
    with pytest.raises(UserInputError, match="trajectory"):
        TransportSpec(trajectory="nope").preflight(ws)
    with pytest.raises(UserInputError, match="formal charge"):
        TransportSpec(trajectory=walkers.id, species="Xe").preflight(ws)
    status, rec = run_in_process(ws, TransportSpec(trajectory=walkers.id, species="Na"))
    assert status is JobStatus.FAILED and "Na" in rec.error and "Li" in rec.error


def test_without_temperature_no_conductivity(ws):
    rec = add_walker_trajectory(ws, "walk-noT", temperature_K=600.0, record_temperature=False)
    status, job = run_in_process(ws, TransportSpec(trajectory=rec.id))
    assert status is JobStatus.SUCCEEDED, job.error
    assert job.result["sigma_mS_cm"] is None and job.result["temperature_K"] is None
    assert any("no temperature" in w for w in job.result["warnings"])
    assert load_transport(ws.job_dir(job.id)).refit((0.2, 1.0)).conductivity is None


def test_cancelled_before_reading(ws, walkers):
    spec = TransportSpec(trajectory=walkers.id, temperature_K=600)
    job_id = store.insert_job(ws, spec.to_dict(), executor="test")
    assert store.claim_job(ws, job_id, executor="test")
    store.request_cancel(ws, job_id)
    with pytest.raises(JobCancelled):
        spec.run(JobContext(ws, job_id))
