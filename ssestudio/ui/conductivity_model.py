"""View model of the Conductivity tab (no widgets; driven directly by tests).

:class:`ConductivityModel` lists the trajectories with a temperature each, submits one
``transport`` job per chosen trajectory, loads the finished jobs' results, re-fits a result
over another fit window from its saved MSD (in-process, milliseconds: no new job), builds
the results table and its CSV, and fits the temperature dependence.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import param

from ssestudio.core.errors import SSEStudioError, UserInputError

#: Columns of the results table and of its CSV (readable by ``ssestudio arrhenius``).
CSV_COLUMNS = ["trajectory", "species", "T_K", "D_cm2_s", "D_err_cm2_s", "D_hop_err_cm2_s",
               "sigma_mS_cm", "sigma_err_mS_cm", "haven_ratio", "haven_ratio_err", "n_eff_hops",
               "diffusive", "fit_t0_ps", "fit_t1_ps", "fit_window", "warnings", "job_id"]
#: How the Arrhenius fit weights the points: which one-sigma error of D (or sigma) it uses.
ERROR_SOURCES = {"larger": "larger of the fit and hop-count errors",
                 "fit": "fit error (GLS + fit-window)", "hops": "hop-count error (He et al.)"}
_VALUE_KEYS = {"D": ("D_cm2_s", "D_err_cm2_s"), "sigma": ("sigma_mS_cm", "sigma_err_mS_cm")}


def provenance_temperature_K(record) -> float | None:
    """The temperature recorded in a trajectory's provenance parameters (e.g. by an MD
    job), K, or None. An NVE run's ``temperature_K`` (its initial temperature) is ignored."""
    params = (record.provenance or {}).get("parameters") or {}
    value = params.get("temperature_K")
    if str(params.get("ensemble", "nvt")).lower().startswith("nve"):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


class ConductivityModel(param.Parameterized):
    """View model of the Conductivity tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    rows = param.List(default=[], doc="Workspace trajectories (id, name, n_frames, "
                                      "timestep_fs, temperature_K, use: ticked)")
    species = param.String(default="Li", doc="Mobile species")
    charges = param.String(default="", doc="'Li=1'; blank = formal charge")
    timestep_fs = param.Number(default=None, allow_None=True, doc="Frame interval override, fs")
    fit_t0_ps = param.Number(default=None, allow_None=True, doc="Fit window start (None: auto)")
    fit_t1_ps = param.Number(default=None, allow_None=True, doc="Fit window end (None: auto)")
    results = param.List(default=[], doc="One dict per analysed (trajectory, species)")
    pending = param.Dict(default={}, doc="Running transport jobs: id -> trajectory name")
    message = param.String(default="")
    quantity = param.Selector(default="sigma", objects=["sigma", "D"])
    error_source = param.Selector(default="larger", objects=list(ERROR_SOURCES))
    target_T_K = param.Number(default=300.0, bounds=(1.0, None))

    def __init__(self, workspace, manager, **params) -> None:
        super().__init__(**params)
        self.workspace = workspace
        self.manager = manager
        self._saved: dict = {}  # job id -> SavedTransport
        self.refresh()

    # ---- trajectories ------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the workspace's trajectories, keeping the ticks and temperatures typed."""
        old = {r["id"]: r for r in self.rows}
        rows = []
        for rec in self.workspace.list_trajectories():
            prev = old.get(rec.id, {})
            rows.append({"id": rec.id, "name": rec.name, "n_frames": rec.n_frames,
                         "timestep_fs": rec.timestep_fs,
                         "temperature_K": prev.get("temperature_K", provenance_temperature_K(rec)),
                         "use": prev.get("use", False)})
        if rows != self.rows:
            self.rows = rows

    def _update_row(self, trajectory_id: int, **values) -> None:
        if not any(r["id"] == trajectory_id for r in self.rows):
            raise UserInputError(f"no trajectory with id {trajectory_id} in the workspace")
        self.rows = [{**r, **values} if r["id"] == trajectory_id else r for r in self.rows]

    def set_temperature(self, trajectory_id: int, temperature_K) -> None:
        """Set the temperature of a trajectory, K (None, blank, NaN or 0: unknown)."""
        try:
            value = None if temperature_K in (None, "") else float(temperature_K)
        except (TypeError, ValueError):
            raise UserInputError(f"a temperature is a number of kelvin, got {temperature_K!r}"
                                 ) from None
        if value is not None and (np.isnan(value) or value == 0):
            value = None
        if value is not None and not value > 0:
            raise UserInputError(f"a temperature must be > 0 K, got {temperature_K}")
        self._update_row(trajectory_id, temperature_K=value)

    def select(self, trajectory_ids) -> None:
        """Tick exactly these trajectories for analysis."""
        ids = set(trajectory_ids)
        rows = [{**r, "use": r["id"] in ids} for r in self.rows]
        if rows != self.rows:
            self.rows = rows

    # ---- jobs --------------------------------------------------------------------------
    def _window(self) -> tuple[float, float] | None:
        t0, t1 = self.fit_t0_ps, self.fit_t1_ps
        if t0 is None and t1 is None:
            return None
        if t0 is None or t1 is None:
            raise UserInputError("give both ends of the fit window (t0 and t1, ps) or neither "
                                 "(automatic window)")
        return (float(t0), float(t1))

    def analyse(self) -> list[int]:
        """Submit one transport job per ticked trajectory; returns the job ids."""
        from ssestudio.jobs.transport import TransportSpec, parse_charges

        chosen = [r for r in self.rows if r["use"]]
        if not chosen:
            raise UserInputError("tick one or more trajectories in the table to analyse")
        common = {"species": self.species, "charges": parse_charges(self.charges),
                  "fit_window_ps": self._window(), "timestep_fs": self.timestep_fs or None}
        specs = [TransportSpec(trajectory=r["id"], temperature_K=r["temperature_K"], **common)
                 for r in chosen]  # all validated before any is submitted
        for spec in specs:
            spec.preflight(self.workspace)
        ids = [self.manager.submit(spec) for spec in specs]
        self.pending = {**self.pending, **{i: r["name"] for i, r in zip(ids, chosen)}}
        no_T = [r["name"] for r in chosen if r["temperature_K"] is None]
        self.message = (f"Submitted {len(ids)} transport job(s) ({', '.join(map(str, ids))}): "
                        "progress in the Jobs panel; results appear here when they finish."
                        + (f" No temperature for {', '.join(no_T)}: the conductivity needs one "
                           "(unless the file records an NVT temperature)." if no_T else ""))
        return ids

    def collect(self) -> list[int]:
        """Load the results of pending jobs that have finished; returns the loaded job ids."""
        loaded, failed, pending = [], [], dict(self.pending)
        for job_id, name in self.pending.items():
            rec = self.manager.get(job_id)
            if not rec.done:
                continue
            del pending[job_id]
            if str(rec.status) == "succeeded":
                self.load_job(job_id)
                loaded.append(job_id)
            else:
                why = (rec.error or rec.message or "").strip().splitlines()
                failed.append(f"job {job_id} ({name}) {rec.status}: {why[-1] if why else ''}")
        if pending != self.pending:
            self.pending = pending
        if failed:
            self.message = " · ".join(failed)
        elif loaded:
            self.message = f"Loaded the results of job(s) {', '.join(map(str, loaded))}."
        return loaded

    def load_job(self, job_id: int) -> dict:
        """Add (or replace, per trajectory and species) the result of a finished transport job."""
        from ssestudio.jobs.transport import load_transport

        rec = self.manager.get(job_id)
        if rec.kind != "transport" or str(rec.status) != "succeeded" or not rec.result:
            raise UserInputError(f"job {job_id} is not a succeeded transport job "
                                 f"({rec.kind}, {rec.status})")
        saved = load_transport(self.workspace.job_dir(job_id))
        self._saved[job_id] = saved
        entry = {"job_id": job_id, "trajectory_id": rec.result["trajectory_id"],
                 "name": rec.result["trajectory"], "species": saved.summary["species"],
                 "summary": saved.summary, "diffusion": saved.diffusion, "refit": False}
        self._replace(entry)
        return entry

    def load_previous(self, *, limit: int = 500) -> int:
        """Show the latest succeeded transport job of each trajectory and species (so a
        reload loses nothing); returns how many results were loaded."""
        records = [r for r in self.manager.list(limit=limit, status="succeeded")
                   if r.kind == "transport"]
        latest = {}
        for rec in sorted(records, key=lambda r: r.id):
            latest[(rec.result or {}).get("trajectory_id"), (rec.result or {}).get("species")] = rec.id
        n = 0
        for job_id in sorted(latest.values()):
            try:
                self.load_job(job_id)
                n += 1
            except (SSEStudioError, OSError, KeyError, ValueError):
                continue  # a job folder deleted by hand: skip it
        return n

    def _replace(self, entry: dict) -> None:
        key = (entry["trajectory_id"], entry["species"])
        kept = [e for e in self.results if (e["trajectory_id"], e["species"]) != key]
        self.results = sorted(kept + [entry], key=lambda e: (
            e["summary"].get("temperature_K") or np.inf, e["name"]))

    def entry(self, job_id: int) -> dict:
        """The result entry of a job."""
        for e in self.results:
            if e["job_id"] == job_id:
                return e
        raise UserInputError(f"no result of job {job_id} is shown")

    def refit(self, job_id: int, fit_window_ps: tuple[float, float] | None) -> dict:
        """Re-fit a result over ``fit_window_ps`` (None: automatic) from its saved MSD.

        Returns the new flat summary; the table, plots and Arrhenius fit follow.
        """
        old = self.entry(job_id)
        result = self._saved[job_id].refit(fit_window_ps)
        entry = {**old, "summary": result.to_dict(), "diffusion": result.diffusion.to_dict(),
                 "refit": fit_window_ps is not None}
        self._replace(entry)
        w = entry["summary"]["fit_window_ps"]
        self.message = f"Re-fitted {old['name']} over {w[0]:g}–{w[1]:g} ps (job {job_id}'s MSD)."
        return entry["summary"]

    # ---- table -------------------------------------------------------------------------
    def table_rows(self) -> list[dict]:
        """One row per result with the columns of :data:`CSV_COLUMNS`."""
        rows = []
        for e in self.results:
            s = e["summary"]
            t0, t1 = s["fit_window_ps"]
            rows.append({
                "trajectory": e["name"], "species": e["species"], "T_K": s.get("temperature_K"),
                **{k: s.get(k) for k in CSV_COLUMNS[3:11]}, "diffusive": bool(s.get("diffusive")),
                "fit_t0_ps": t0, "fit_t1_ps": t1,
                "fit_window": "re-fitted" if e["refit"] else
                              ("automatic" if s.get("fit_window_auto") else "given"),
                "warnings": " | ".join(s.get("warnings") or []), "job_id": e["job_id"]})
        return rows

    def csv_text(self) -> str:
        """The results table as CSV (``ssestudio arrhenius`` reads it directly)."""
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.table_rows():
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        return out.getvalue()

    # ---- temperature dependence --------------------------------------------------------
    def arrhenius_points(self) -> tuple[dict, list[str]]:
        """Points of the Arrhenius fit for the current species and quantity, and notes on
        the results left out."""
        value_key, err_key = _VALUE_KEYS[self.quantity]
        points = {"T_K": [], "value": [], "error": [], "label": []}
        notes = []
        for e in self.results:
            if e["species"] != self.species:
                continue
            s = e["summary"]
            T, v, err = s.get("temperature_K"), s.get(value_key), s.get(err_key)
            hop = s.get("D_hop_err_cm2_s")
            if hop is not None and s.get("D_cm2_s"):
                hop = hop * (v / s["D_cm2_s"]) if v is not None else None
            err = {"fit": err, "hops": hop,
                   "larger": max((x for x in (err, hop) if x is not None), default=None)}[
                self.error_source]
            if T is None or v is None or err is None or not (v > 0 and err > 0):
                notes.append(f"{e['name']} left out (T = {T}, {value_key} = {v}, error = {err})")
                continue
            for key, x in zip(points, (T, v, err, e["name"])):
                points[key].append(x)
        return points, notes

    def arrhenius(self):
        """``(TemperatureFit or None, points, notes)``: the fit needs >= 3 temperatures."""
        from ssestudio.analysis.arrhenius import fit_temperature_dependence

        points, notes = self.arrhenius_points()
        n_T = len(set(points["T_K"]))
        if n_T < 3:
            notes.append(f"The Arrhenius fit needs results at >= 3 distinct temperatures of "
                         f"{self.species}; {n_T} so far. Analyse trajectories at more temperatures.")
            return None, points, notes
        try:
            fit = fit_temperature_dependence(points["T_K"], points["value"], points["error"],
                                             quantity=self.quantity, target_T_K=self.target_T_K)
        except UserInputError as exc:
            notes.append(str(exc))
            return None, points, notes
        return fit, points, notes

    def msd_curves(self) -> list[dict]:
        """Curves for :func:`ssestudio.ui.plots.msd_figure`, one per result."""
        from ssestudio.jobs.transport import fitted_msd_A2
        from ssestudio.ui.plots import color

        curves = []
        for i, e in enumerate(self.results):
            msd = self._saved[e["job_id"]].msd
            sem = np.asarray(msd.msd_sem_A2)
            t0, t1 = e["summary"]["fit_window_ps"]
            ft = np.linspace(t0, t1, 50)
            T = e["summary"].get("temperature_K")
            curves.append({"label": f"{e['name']}" + (f" ({T:g} K)" if T else ""),
                           "color": color(i), "time_ps": np.asarray(msd.time_ps),
                           "msd_A2": np.asarray(msd.msd_A2),
                           "sem_A2": sem if np.isfinite(sem[1:]).any() else None,
                           "fit_time_ps": ft, "fit_msd_A2": fitted_msd_A2(e["diffusion"], ft)})
        return curves
