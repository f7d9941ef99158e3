"""View model of the Paddle-wheel explorer tab: choose a trajectory, an anion and a cation,
run the rotation analysis as a background job, browse its results, and turn a chosen
event or rotation-hop pair into what the 3D viewer should show (frame, atoms to highlight).

No widgets here (tests drive it directly); :mod:`ssestudio.ui.rotation` lays them out.
"""

from __future__ import annotations

from typing import Any

import param

from ssestudio.core.errors import UserInputError

__all__ = ["CUSTOM", "RotationExplorer"]

#: The anion choice that enables the centre/ligands fields.
CUSTOM = "custom"

#: Analysis fields of the form (names of ``RotationSpec`` fields).
FORM_FIELDS = ("cation", "stride", "temperature_K", "rotation_window_fs",
               "rotation_threshold_deg", "hop_window_fs", "hop_threshold_A",
               "coincidence_dt_ps", "coincidence_r_A")


def _round(value, digits: int = 3):
    """``value`` to ``digits`` significant digits (None stays None)."""
    return None if value is None else float(f"{value:.{digits}g}")


class RotationExplorer(param.Parameterized):
    """View model of the Paddle-wheel tab.

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    manager : ssestudio.jobs.JobManager
    """

    trajectory = param.Integer(default=None, allow_None=True, doc="Workspace trajectory id")
    trajectory_options = param.Dict(default={}, doc="Label -> trajectory id")
    anion = param.Selector(default="PS4", objects=["PS4"])
    centre = param.String(default="", doc="Custom anion: centre element(s), comma-separated")
    ligands = param.String(default="", doc="Custom anion: ligand element(s)")
    n_ligands = param.Integer(default=None, allow_None=True, bounds=(1, None))
    cation = param.String(default="Li")
    stride = param.Integer(default=None, allow_None=True, bounds=(1, None))
    temperature_K = param.Number(default=None, allow_None=True, bounds=(0, None))
    rotation_window_fs = param.Number(default=500.0, bounds=(0, None))
    rotation_threshold_deg = param.Number(default=60.0, bounds=(0, 180))
    hop_window_fs = param.Number(default=500.0, bounds=(0, None))
    hop_threshold_A = param.Number(default=1.5, bounds=(0, None))
    coincidence_dt_ps = param.Number(default=0.5, bounds=(0, None))
    coincidence_r_A = param.Number(default=4.0, bounds=(0, None))
    results = param.List(default=[], doc="One row per finished rotation job, newest first")
    selected = param.List(default=[], doc="Ticked result job ids (the last one is shown)")
    data_version = param.Integer(default=0, doc="Bumped when the shown result changed")
    message = param.String(default="")

    def __init__(self, workspace, manager, **params) -> None:
        from ssestudio.analysis.rotation import ANIONS

        self.param.anion.objects = [*ANIONS, CUSTOM]
        super().__init__(**params)
        self.workspace, self.manager = workspace, manager
        self._pending: dict[int, str] = {}
        self._loaded: dict[int, dict] = {}
        self.refresh()
        self.param.watch(lambda *_e: self._prefill_temperature(), "trajectory")
        self._prefill_temperature()

    # ---- form --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-list the workspace's trajectories and the finished rotation jobs."""
        options = {f"{r.name} · {r.formula or ''} · {r.n_frames} frames": r.id
                   for r in self.workspace.list_trajectories()}
        if options != self.trajectory_options:
            self.trajectory_options = options
        if self.trajectory not in options.values():
            self.trajectory = next(iter(options.values()), None)
        self.refresh_results()

    def _prefill_temperature(self) -> None:
        from ssestudio.ui.conductivity_model import provenance_temperature_K

        if self.trajectory is not None:
            self.temperature_K = provenance_temperature_K(
                self.workspace.get_trajectory(self.trajectory))

    def spec(self):
        """The :class:`~ssestudio.jobs.rotation.RotationSpec` of the form (validated)."""
        from ssestudio.jobs.rotation import RotationSpec

        if self.trajectory is None:
            raise UserInputError("choose a trajectory (run MD in the MD tab, or import one in "
                                 "the Trajectories tab)")
        values: dict[str, Any] = {k: getattr(self, k) for k in FORM_FIELDS}
        values["temperature_K"] = self.temperature_K or None
        if self.anion == CUSTOM:
            if not self.centre.strip() or not self.ligands.strip():
                raise UserInputError("a custom anion needs its centre and ligand elements, "
                                     "e.g. centre Ge, ligands S")
            values.update(anion="", centre=self.centre.strip(), ligands=self.ligands.strip(),
                          n_ligands=self.n_ligands)
        else:
            values["anion"] = self.anion
        return RotationSpec(trajectory=self.trajectory, **values)

    def analyse(self) -> int:
        """Submit a ``rotation`` job of the form; returns its id (shown when it finishes)."""
        spec = self.spec()
        spec.preflight(self.workspace)
        job_id = self.manager.submit(spec)
        name = self.workspace.get_trajectory(self.trajectory).name
        self._pending[job_id] = name
        self.message = (f"Rotation analysis of {name!r} submitted (job {job_id}): progress in "
                        "the Jobs panel; the result opens here when it finishes.")
        return job_id

    # ---- results -----------------------------------------------------------------------
    def refresh_results(self, *, limit: int = 500) -> None:
        """Re-list the finished rotation jobs; open the ones this page submitted."""
        rows = []
        for rec in self.manager.list(limit=limit, status="succeeded"):
            if rec.kind != "rotation":
                continue
            r = rec.result or {}
            lo, hi = (r.get("enrichment_ci") or [None, None])[:2]
            rows.append({"id": rec.id, "trajectory": r.get("trajectory", ""),
                         "anion": r.get("anion", ""), "cation": r.get("cation", ""),
                         "T_K": r.get("temperature_K"), "tau_C2_ps": _round(r.get("mean_tau_C2_ps")),
                         "rotations": r.get("rotation_events"), "hops": r.get("hop_events"),
                         "enrichment": _round(r.get("enrichment")),
                         "ci": "" if lo is None or hi is None else f"{lo:.2f}–{hi:.2f}"})
        if rows != self.results:
            self.results = rows
        finished = []
        for job_id in list(self._pending):
            rec = self.manager.get(job_id)
            if not rec.done:
                continue
            name = self._pending.pop(job_id)
            if str(rec.status) == "succeeded":
                finished.append(job_id)
            else:
                why = (rec.error or rec.message or "").strip().splitlines()
                self.message = (f"rotation analysis job {job_id} ({name}) {rec.status}: "
                                + (why[-1] if why else ""))
        if finished:
            self.select([*self.selected, *finished])
            self.message = f"Rotation analysis (job {finished[-1]}) loaded."

    def select(self, job_ids) -> None:
        """Tick these results (the last one is shown)."""
        known = {r["id"] for r in self.results}
        ids = [int(i) for i in dict.fromkeys(job_ids) if int(i) in known]
        if ids != self.selected:
            self.selected = ids
            self.data_version += 1

    @property
    def shown(self) -> int | None:
        """The job whose result is shown."""
        return self.selected[-1] if self.selected else None

    def data(self, job_id: int | None = None) -> dict | None:
        """``rotation.json`` of a result (the shown one by default), cached."""
        from ssestudio.jobs.rotation import load_rotation_result

        job_id = self.shown if job_id is None else job_id
        if job_id is None:
            return None
        if job_id not in self._loaded:
            self._loaded[job_id] = load_rotation_result(self.manager.get(job_id).result["path"])
        return self._loaded[job_id]

    def reorientation_arrhenius(self):
        """Arrhenius fit of the C2 reorientation time over the ticked results with a
        temperature (None with fewer than two temperatures): ``(fit, points)`` with points
        ``{"T_K", "tau_ps", "tau_err_ps"}``."""
        from ssestudio.analysis.rotation import fit_reorientation_arrhenius

        pts = [(r["T_K"], self.data(r["id"])) for r in self.results
               if r["id"] in self.selected and r["T_K"]]
        triples = [(T, d["mean_tau_C2_ps"], d.get("mean_tau_C2_err_ps")) for T, d in pts
                   if d.get("mean_tau_C2_ps")]
        points = {"T_K": [t[0] for t in triples], "tau_ps": [t[1] for t in triples],
                  "tau_err_ps": [t[2] for t in triples]}
        if len({t[0] for t in triples}) < 2:
            return None, points
        return fit_reorientation_arrhenius(triples), points

    # ---- events and pairs for the viewer -----------------------------------------------
    def event_rows(self) -> list[dict]:
        """Rotation and hop events of the shown result, in time order: ``kind``, ``i``
        (index in its list), ``time_ps``, ``frame`` (trajectory frame), ``who`` and
        ``value``."""
        d = self.data()
        if d is None:
            return []
        rows = []
        for kind, unit in (("rotation", "°"), ("hop", "Å")):
            ev = d["events"][kind]
            for i, (t, f, atom, v) in enumerate(zip(ev["time_ps"], ev["trajectory_frame"],
                                                    ev["atom"], ev["value"])):
                who = (f"{d['anion']} #{ev['index'][i]} (atom {atom})" if kind == "rotation"
                       else f"{d['cation']} atom {atom}")
                rows.append({"kind": kind, "i": i, "time_ps": t, "frame": f, "who": who,
                             "value": f"{v:.3g} {unit}" if v is not None else ""})
        return sorted(rows, key=lambda r: (r["time_ps"], r["kind"]))

    def pair_rows(self) -> list[dict]:
        """Coincident rotation-hop pairs of the shown result (closest in time first)."""
        d = self.data()
        if d is None or not d.get("pairs"):
            return []
        rot, hop, p = d["events"]["rotation"], d["events"]["hop"], d["pairs"]
        return [{"i": n, "rotation_ps": rot["time_ps"][a], "hop_ps": hop["time_ps"][b],
                 "dt_ps": dt, "distance_A": r,
                 "anion": f"{d['anion']} #{rot['index'][a]}",
                 "cation": f"{d['cation']} atom {hop['atom'][b]}"}
                for n, (a, b, dt, r) in enumerate(zip(p["rotation"], p["hop"], p["dt_ps"],
                                                      p["distance_A"]))]

    def _unit_atoms(self, d: dict, unit: int) -> list[int]:
        return [int(a) for a in d["units"]["unit_atoms"][unit]]

    def view_of(self, kind: str, i: int) -> tuple[int, list[int], str]:
        """What the viewer shows for an event or pair: ``(trajectory frame, atoms to
        highlight, caption)``. ``kind`` is ``"rotation"``, ``"hop"`` or ``"pair"``."""
        d = self.data()
        if d is None:
            raise UserInputError("open a rotation analysis first")
        if kind == "pair":
            p = d["pairs"]
            if not 0 <= i < len(p["rotation"]):
                raise UserInputError(f"no pair {i}")
            a, b = p["rotation"][i], p["hop"][i]
            rot, hop = d["events"]["rotation"], d["events"]["hop"]
            atoms = self._unit_atoms(d, rot["index"][a]) + [int(hop["atom"][b])]
            return (int(hop["trajectory_frame"][b]), atoms,
                    f"{d['anion']} #{rot['index'][a]} rotated {rot['value'][a]:.0f}° at "
                    f"{rot['time_ps'][a]:.2f} ps; {d['cation']} atom {hop['atom'][b]} hopped "
                    f"{hop['value'][b]:.2f} Å at {hop['time_ps'][b]:.2f} ps, "
                    f"{p['distance_A'][i]:.2f} Å away")
        if kind not in ("rotation", "hop"):
            raise UserInputError(f"unknown event kind {kind!r}: rotation, hop or pair")
        ev = d["events"][kind]
        if not 0 <= i < len(ev["frame"]):
            raise UserInputError(f"no {kind} event {i}")
        if kind == "rotation":
            atoms = self._unit_atoms(d, ev["index"][i])
            text = f"{d['anion']} #{ev['index'][i]} rotated {ev['value'][i]:.0f}°"
        else:
            atoms = [int(ev["atom"][i])]
            text = f"{d['cation']} atom {ev['atom'][i]} hopped {ev['value'][i]:.2f} Å"
        return int(ev["trajectory_frame"][i]), atoms, f"{text} at {ev['time_ps'][i]:.2f} ps"
