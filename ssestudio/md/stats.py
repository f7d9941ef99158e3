"""Results of MD runs: per-stage statistics while a stage runs, and the result of a
protocol (:func:`~ssestudio.md.engine.run_protocol`).

A stage's statistics are taken over its written frames after its step 0 (the state it
starts from), as :class:`~ssestudio.md.runner.MDResult` documents; they are saved in
checkpoints, so a resumed stage reports the same means as an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ssestudio.md.runner import MDResult
from ssestudio.md.thermo import ThermoState

#: Per-frame statistics kept for each stage (and saved in checkpoints).
_STATS = ("T_K", "P_GPa", "V_A3", "density_g_cm3", "max_force_dev_eV_A")


@dataclass(frozen=True)
class ProtocolResult:
    """Outcome of :func:`~ssestudio.md.engine.run_protocol`.

    Attributes
    ----------
    stages : tuple of MDResult
        One per stage run (fewer than the protocol's when stopped early).
    stage_names : tuple of str
        Their names.
    n_steps_done : int
        Steps of all stages.
    wall_s : float
        Wall time in this process, s.
    atom_steps_per_s : float
        ``n_atoms * steps / t`` over the steps run in this process (``t`` from the first
        step, so the first force call and imports are left out).
    seed : int
        Seed used.
    stopped : bool
        ``should_stop()`` ended the run early.
    n_frames : dict of str to int
        Frames in each output.
    final_volume_A3, final_density_g_cm3 : float or None
        Of the final cell (None without a periodic cell).
    """

    stages: tuple[MDResult, ...]
    stage_names: tuple[str, ...]
    n_steps_done: int
    wall_s: float
    atom_steps_per_s: float
    seed: int
    stopped: bool
    n_frames: dict[str, int]
    final_volume_A3: float | None
    final_density_g_cm3: float | None

    def stage(self, name: str) -> MDResult:
        """The result of stage ``name`` (KeyError if it did not run)."""
        return self.stages[self.stage_names.index(name)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        data = dataclasses.asdict(self)
        data["stages"] = [dict(s.to_dict(), name=n) for s, n in zip(self.stages,
                                                                    self.stage_names)]
        del data["stage_names"]
        return data


@dataclass
class StageStats:
    """Per-frame statistics of the running stage (frames after its step 0), its number of
    records, and the volume it started from (for the NPT volume check), Å^3."""

    values: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in _STATS})
    cells: list[np.ndarray] = field(default_factory=list)
    first_T_K: float = float("nan")
    n_records: int = 0
    volume0_A3: float = float("nan")

    def add(self, state: ThermoState, cell: np.ndarray, *, step: int) -> None:
        """Count the frame at ``step``; frames after step 0 enter the statistics."""
        self.n_records += 1
        dev = state.max_force_deviation_eV_A
        if step == 0:
            self.first_T_K = state.temperature_K
            return
        for key, value in zip(_STATS, (state.temperature_K, state.pressure_GPa,
                                       state.volume_A3, state.density_g_cm3,
                                       np.nan if dev is None else dev)):
            self.values[key].append(float(value))
        self.cells.append(np.array(cell, dtype=float))

    def mean_cell(self) -> np.ndarray | None:
        """Mean cell over the second half of the frames after step 0 (None if none)."""
        cells = self.cells[len(self.cells) // 2:]
        return np.mean(cells, axis=0) if cells else None

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The statistics as arrays (for a checkpoint)."""
        arrays = {k: np.array(v, dtype=float) for k, v in self.values.items()}
        arrays["cells"] = np.array(self.cells, dtype=float).reshape(-1, 3, 3)
        arrays["scalars"] = np.array([self.first_T_K, self.n_records, self.volume0_A3])
        return arrays

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> "StageStats":
        """Rebuild what :meth:`to_arrays` saved."""
        first, n, v0 = (float(x) for x in arrays["scalars"])
        return cls({k: [float(x) for x in arrays[k]] for k in _STATS},
                   [np.array(c) for c in arrays["cells"]], first, int(n), v0)

    def result(self, **kwargs: Any) -> MDResult:
        """The stage's :class:`MDResult`; ``kwargs`` are the fields not computed here
        (steps, wall time, throughput, final energies, seed, paths)."""
        def mean(key: str) -> float | None:
            v = np.array(self.values[key])
            v = v[np.isfinite(v)]
            return float(v.mean()) if len(v) else None

        temps = np.array(self.values["T_K"] or [self.first_T_K])
        devs = np.array(self.values["max_force_dev_eV_A"])
        devs = devs[np.isfinite(devs)]
        return MDResult(n_frames=self.n_records, mean_T_K=float(temps.mean()),
                        std_T_K=float(temps.std()), mean_P_GPa=mean("P_GPa"),
                        mean_volume_A3=mean("V_A3"), mean_density_g_cm3=mean("density_g_cm3"),
                        max_force_deviation_eV_A=float(devs.max()) if len(devs) else None,
                        **kwargs)
