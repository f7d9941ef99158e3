"""Tiers 1 and 2: the Conductivity tab's view model with real transport jobs, and its layout.

Synthetic Li random walks of known, Arrhenius D (tests/jobs/test_jobs_transport.py) are
written as native HDF5 into the seeded workspace at three temperatures.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import panel as pn
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui.conductivity import CSV_COLUMNS, ConductivityModel, ConductivityTab
from tests.jobs.test_jobs_transport import add_walker_trajectory, run_in_process

TEMPERATURES = (400.0, 500.0, 600.0)


@pytest.fixture(scope="module")
def analysed(tmp_path_factory, sample_data_dir):
    """A seeded workspace with three walker trajectories, each analysed by a transport job
    (run in this process), and a manager that has not started anything."""
    from ssestudio.jobs import JobManager, LocalExecutor
    from ssestudio.jobs.transport import TransportSpec
    from ssestudio.workspace import Workspace

    ws = Workspace.open(tmp_path_factory.mktemp("cond") / "ws", sample_dir=sample_data_dir)
    records = [add_walker_trajectory(ws, f"walk-{T:.0f}K", temperature_K=T, seed=i)
               for i, T in enumerate(TEMPERATURES)]
    jobs = []
    for rec in records:
        _, job = run_in_process(ws, TransportSpec(trajectory=rec.id, temperature_K=float(
            rec.provenance["parameters"]["temperature_K"])))
        jobs.append(job)
    manager = JobManager(ws, LocalExecutor(max_workers=1))
    yield ws, manager, records, jobs
    manager.close()
    ws.close()


@pytest.fixture
def model(analysed):
    ws, manager, _, _ = analysed
    m = ConductivityModel(ws, manager)
    assert m.load_previous() == 3
    return m


# ---- tier 1 ------------------------------------------------------------------------------
def test_temperatures_prefilled_from_provenance(analysed):
    ws, manager, records, _ = analysed
    m = ConductivityModel(ws, manager)
    by_name = {r["name"]: r for r in m.rows}
    for rec, T in zip(records, TEMPERATURES):
        assert by_name[rec.name]["temperature_K"] == T and not by_name[rec.name]["use"]
    assert by_name["Li3PS4 melt 800 K (SevenNet-0)"]["temperature_K"] is None
    m.set_temperature(records[0].id, 450)
    m.select([records[0].id])
    m.refresh()  # keeps what the user typed
    row = next(r for r in m.rows if r["id"] == records[0].id)
    assert row["temperature_K"] == 450.0 and row["use"]
    with pytest.raises(UserInputError, match="> 0 K"):
        m.set_temperature(records[0].id, -3)


def test_analyse_submits_jobs_and_collects_results(seeded_workspace, manager):
    recs = [add_walker_trajectory(seeded_workspace, f"w{T:.0f}", temperature_K=T, seed=7)
            for T in TEMPERATURES]
    m = ConductivityModel(seeded_workspace, manager)
    with pytest.raises(UserInputError, match="tick one or more"):
        m.analyse()
    m.select([r.id for r in recs])
    m.fit_t0_ps = 0.1
    with pytest.raises(UserInputError, match="both ends"):
        m.analyse()
    m.fit_t0_ps = None
    ids = m.analyse()
    assert len(ids) == 3 and set(m.pending) == set(ids) and "Jobs panel" in m.message
    for job_id in ids:
        assert str(manager.wait(job_id, timeout=60).status) == "succeeded"
    assert sorted(m.collect()) == sorted(ids) and m.pending == {}
    assert [e["summary"]["temperature_K"] for e in m.results] == list(TEMPERATURES)
    fit, points, _ = m.arrhenius()
    assert fit is not None and fit.n_temperatures == 3 and points["label"] == ["w400", "w500", "w600"]


def test_table_holds_the_job_results(model, analysed):
    _, manager, records, jobs = analysed
    rows = model.table_rows()
    assert [r["trajectory"] for r in rows] == [r.name for r in records]
    for row, job in zip(rows, jobs):
        res = manager.get(job.id).result
        assert row["job_id"] == job.id and row["T_K"] == res["temperature_K"]
        for key in CSV_COLUMNS[3:11]:
            assert row[key] == res[key], key
        assert row["diffusive"] is res["diffusive"]
        assert [row["fit_t0_ps"], row["fit_t1_ps"]] == res["fit_window_ps"]
        assert row["warnings"] == " | ".join(res["warnings"]) and row["fit_window"] == "automatic"


def test_csv_export(model, tmp_path):
    from ssestudio.analysis.arrhenius import read_transport_table

    text = model.csv_text()
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert list(parsed[0]) == CSV_COLUMNS and len(parsed) == 3
    for row, table_row in zip(parsed, model.table_rows()):
        assert float(row["D_cm2_s"]) == table_row["D_cm2_s"]
        assert float(row["sigma_mS_cm"]) == table_row["sigma_mS_cm"]
        assert row["trajectory"] == table_row["trajectory"]
    (tmp_path / "t.csv").write_text(text)
    table = read_transport_table(tmp_path / "t.csv", quantity="D")  # what `ssestudio arrhenius` reads
    np.testing.assert_allclose(table.T_K, TEMPERATURES)


def test_arrhenius_recovers_the_activation_energy(model):
    model.quantity = "D"
    fit, _, notes = model.arrhenius()
    assert fit is not None and fit.n_temperatures == 3 and not notes
    assert fit.model == "arrhenius" and abs(fit.Ea_eV - 0.2) < 3 * fit.Ea_err_eV + 0.02
    assert any("3 distinct temperatures" in w for w in fit.warnings)  # curvature undetectable
    lo, hi = fit.extrapolated_300K_interval
    assert lo < fit.extrapolated_300K < hi
    model.error_source = "fit"
    small = model.arrhenius()[1]["error"]
    model.error_source = "hops"
    assert all(h > s for h, s in zip(model.arrhenius()[1]["error"], small))


def test_arrhenius_needs_three_temperatures(model, analysed):
    model.results = model.results[:2]
    fit, points, notes = model.arrhenius()
    assert fit is None and len(points["T_K"]) == 2
    assert any(">= 3 distinct temperatures" in n for n in notes)
    model.species = "Na"
    assert model.arrhenius()[1]["T_K"] == []


def test_refit_with_a_new_window(model, analysed):
    job_id = model.results[2]["job_id"]
    before = model.entry(job_id)["summary"]
    after = model.refit(job_id, (0.5, 3.0))
    assert after["fit_window_ps"] == pytest.approx([0.5, 3.0]) and after["D_cm2_s"] != before["D_cm2_s"]
    row = next(r for r in model.table_rows() if r["job_id"] == job_id)
    assert row["D_cm2_s"] == after["D_cm2_s"] and row["fit_window"] == "re-fitted"
    assert model.refit(job_id, None)["D_cm2_s"] == pytest.approx(before["D_cm2_s"], rel=1e-12)
    with pytest.raises(UserInputError, match="fit window"):
        model.refit(job_id, (2.0, 50.0))


def test_msd_curves_carry_band_and_fit_line(model):
    curves = model.msd_curves()
    assert len(curves) == 3 and curves[0]["label"] == "walk-400K (400 K)"
    c = curves[2]
    assert c["sem_A2"] is not None and len(c["time_ps"]) == 400
    t0, t1 = model.results[2]["summary"]["fit_window_ps"]
    assert c["fit_time_ps"][0] == t0 and c["fit_time_ps"][-1] == t1
    mid = len(c["time_ps"]) // 4
    assert np.interp(c["time_ps"][mid], c["fit_time_ps"], c["fit_msd_A2"]) == pytest.approx(
        c["msd_A2"][mid], rel=0.2)


def test_bad_species_is_refused_or_reported(seeded_workspace, manager):
    rec = add_walker_trajectory(seeded_workspace, "w", temperature_K=500.0)
    m = ConductivityModel(seeded_workspace, manager, species="Xe")
    m.select([rec.id])
    with pytest.raises(UserInputError, match="formal charge"):  # refused before submitting
        m.analyse()
    m.species = "Na"  # has a formal charge but is absent: the job fails and says so
    (job_id,) = m.analyse()
    manager.wait(job_id, timeout=60)
    assert m.collect() == [] and "failed" in m.message and "Na" in m.message


# ---- tier 2 ------------------------------------------------------------------------------
def test_tab_layout_and_figures(analysed):
    from bokeh.plotting import figure

    ws, manager, _, _ = analysed
    tab = ConductivityTab(ws, manager)
    layout = tab.__panel__()
    assert isinstance(layout, pn.Row) and layout.name == "Conductivity"
    buttons = {b.label for b in layout.select(pn.widgets.Button)}
    assert {"Analyse", "Re-fit", "Automatic window"} <= buttons
    (download,) = layout.select(pn.widgets.FileDownload)
    assert download.filename == "transport.csv"
    assert download.callback().getvalue() == tab.model.csv_text()
    tables = layout.select(pn.widgets.Tabulator)
    assert len(tables) == 2 and len(tables[1].value) == 3
    panes = {p.name: p for p in layout.select(pn.pane.Bokeh)}
    msd, arr = panes["msd-plot"].object, panes["arrhenius-plot"].object
    assert isinstance(msd, figure) and isinstance(arr, figure)
    assert msd.y_scale.__class__.__name__ == "LogScale"
    assert any(t.__class__.__name__ == "SaveTool" for t in arr.toolbar.tools)
    markdown = " ".join(str(p.object) for p in layout.select(pn.pane.Markdown))
    assert "Preferred model: arrhenius" in markdown and "save" in markdown
    tab._log.value = False
    assert panes["msd-plot"].object.y_scale.__class__.__name__ == "LinearScale"
    tab._svg.value = "SVG"
    assert panes["arrhenius-plot"].object.output_backend == "svg"
    tab._t0.value, tab._t1.value = 0.4, 2.5
    tab._on_refit(auto=False)
    assert tab.model.entry(tab._which.value)["summary"]["fit_window_ps"] == pytest.approx([0.4, 2.5])
    alerts = [a for a in layout.select(pn.pane.Alert) if a.alert_type == "warning"]
    assert alerts and alerts[0].visible and "3 distinct temperatures" in alerts[0].object


def test_tab_without_results(seeded_workspace, manager):
    tab = ConductivityTab(seeded_workspace, manager)
    layout = tab.__panel__()
    panes = layout.select(pn.pane.Bokeh)
    assert all(p.object is None for p in panes)
    tab._on_refit(auto=False)
    assert tab._alert.visible and "analyse a trajectory first" in tab._alert.object
