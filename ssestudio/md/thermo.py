"""The thermo log of an MD run: one CSV line per written frame.

Columns (:data:`THERMO_COLUMNS`; NaN where a quantity is not available):

``step``, ``time_fs``
    Step and time of the output (cumulative over the stages written to it).
``T_K``
    Kinetic temperature ``2 E_kin / (N_dof k_B)`` (``N_dof`` from
    :func:`~ssestudio.md.integrators.degrees_of_freedom`).
``Epot_eV``, ``Ekin_eV``, ``Etot_eV``
    Potential, kinetic and total energy.
``target_T_K``
    Thermostat target at this step (NaN for NVE).
``P_GPa``, ``Sxx_GPa`` ... ``Sxy_GPa``
    Pressure ``-tr(sigma) / 3`` and the stress tensor ``sigma`` (Voigt order xx, yy, zz,
    yz, xz, xy; ASE's sign: positive is tensile), both with the kinetic (ideal-gas) term.
``V_A3``, ``density_g_cm3``
    Cell volume and mass density (``1 amu/Å^3 = 1.66053906660 g/cm^3``).
``Econs_eV``
    The integrator's conserved energy (thermostat and barostat energy included).
``max_force_dev_eV_A``
    An ensemble calculator's maximum per-atom force deviation.
``stage``
    Index of the protocol stage (0 for a single run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    from ase import Atoms

#: Columns of the thermo log (CSV); the first six are those of earlier versions.
THERMO_COLUMNS = ("step", "time_fs", "T_K", "Epot_eV", "Ekin_eV", "Etot_eV", "target_T_K",
                  "P_GPa", "Sxx_GPa", "Syy_GPa", "Szz_GPa", "Syz_GPa", "Sxz_GPa", "Sxy_GPa",
                  "V_A3", "density_g_cm3", "Econs_eV", "max_force_dev_eV_A", "stage")
#: g/cm^3 per amu/Å^3.
AMU_A3_TO_G_CM3 = 1.66053906660


@dataclass(frozen=True)
class ThermoState:
    """Thermodynamic state of one frame.

    Attributes
    ----------
    temperature_K : float
        Kinetic temperature, K.
    epot_eV, ekin_eV : float
        Potential and kinetic energy, eV.
    stress_GPa : ndarray, shape (6,)
        Stress with the kinetic term, Voigt, GPa (NaN when not computed).
    volume_A3, density_g_cm3 : float
        Cell volume (Å^3) and mass density (g/cm^3); NaN without a 3-D cell.
    conserved_eV : float
        Conserved energy of the integrator, eV (NaN when it has none).
    max_force_deviation_eV_A : float or None
        Ensemble force deviation, eV/Å, when the calculator gives one.
    """

    temperature_K: float
    epot_eV: float
    ekin_eV: float
    stress_GPa: np.ndarray
    volume_A3: float
    density_g_cm3: float
    conserved_eV: float
    max_force_deviation_eV_A: float | None

    @property
    def pressure_GPa(self) -> float:
        """``-tr(stress) / 3``, GPa (NaN when the stress was not computed)."""
        return float(-np.mean(self.stress_GPa[:3]))

    def line(self, *, step: int, time_fs: float, target_K: float, stage: int) -> str:
        """The CSV line of :data:`THERMO_COLUMNS` (with newline)."""
        dev = math.nan if self.max_force_deviation_eV_A is None else self.max_force_deviation_eV_A
        values = [self.temperature_K, self.epot_eV, self.ekin_eV, self.epot_eV + self.ekin_eV,
                  target_K, self.pressure_GPa, *self.stress_GPa, self.volume_A3,
                  self.density_g_cm3, self.conserved_eV, dev]
        return (f"{step},{time_fs:.6g}," + ",".join(f"{v:.10g}" for v in values)
                + f",{stage}\n")


def measure(atoms: "Atoms", *, n_dof: int, stress: bool,
            conserved: Callable[[], float] | None = None) -> ThermoState:
    """The :class:`ThermoState` of ``atoms`` (its calculator's cached results are used).

    Parameters
    ----------
    atoms : ase.Atoms
        With a calculator.
    n_dof : int
        Kinetic degrees of freedom.
    stress : bool
        Compute the stress (one more calculation where the integrator has not asked for
        it already).
    conserved : callable, optional
        Returns the integrator's conserved energy, eV.
    """
    from ase.units import GPa, kB

    epot = float(atoms.get_potential_energy())
    ekin = float(atoms.get_kinetic_energy())
    sigma = np.full(6, np.nan)
    if stress:
        sigma = np.asarray(atoms.get_stress(voigt=True, include_ideal_gas=True), float) / GPa
    volume = float(atoms.get_volume()) if atoms.pbc.all() else math.nan
    density = float(atoms.get_masses().sum()) / volume * AMU_A3_TO_G_CM3 if volume else math.nan
    results = atoms.calc.results if atoms.calc is not None else {}
    dev = results.get("max_force_deviation")
    return ThermoState(
        temperature_K=2.0 * ekin / (n_dof * kB), epot_eV=epot, ekin_eV=ekin, stress_GPa=sigma,
        volume_A3=volume, density_g_cm3=density,
        conserved_eV=float(conserved()) if conserved is not None else math.nan,
        max_force_deviation_eV_A=None if dev is None else float(dev))


def can_compute_stress(atoms: "Atoms") -> bool:
    """The calculator says it computes stress and the cell is periodic in 3-D."""
    props = getattr(atoms.calc, "implemented_properties", ())
    return "stress" in props and bool(atoms.pbc.all()) and atoms.cell.rank == 3


class ThermoLog:
    """A thermo CSV written line by line and flushed at once.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    keep_rows : int, optional
        Resume: keep the header and the first ``keep_rows`` data lines of the existing
        file, drop the rest, and append after them. None starts a new file.
    """

    def __init__(self, path: str | Path, *, keep_rows: int | None = None) -> None:
        self.path = Path(path)
        header = ",".join(THERMO_COLUMNS) + "\n"
        kept: list[str] = []
        if keep_rows is not None and self.path.exists():
            lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines[1:] if line.endswith("\n")][:keep_rows]
        self._fh = open(self.path, "w", encoding="utf-8", newline="")
        self._fh.write(header + "".join(kept))
        self._fh.flush()
        self.n_rows = len(kept)

    def write(self, line: str) -> None:
        """Append one line (from :meth:`ThermoState.line`) and flush."""
        self._fh.write(line)
        self._fh.flush()
        self.n_rows += 1

    def close(self) -> None:
        """Close the file (idempotent)."""
        self._fh.close()


def parse_thermo(text: str) -> dict[str, np.ndarray]:
    """A thermo log's text (CSV with a header line) as ``{column: (n,) array}``. A last
    line that is not complete (a run still writing it) is left out."""
    import io

    lines = text.splitlines()
    if not lines:
        raise ValueError("empty thermo log")
    names = lines[0].strip().split(",")
    rows = [ln for ln in lines[1:] if ln.count(",") == len(names) - 1]
    if not text.endswith("\n") and rows and rows[-1] == lines[-1]:
        rows = rows[:-1]
    if not rows:
        return {name: np.empty(0) for name in names}
    data = np.loadtxt(io.StringIO("\n".join(rows)), delimiter=",", ndmin=2)
    return {name: data[:, k] for k, name in enumerate(names)}


def read_thermo(path: str | Path) -> dict[str, np.ndarray]:
    """A thermo log as ``{column: array}`` (columns of the file's header)."""
    return parse_thermo(Path(path).read_text(encoding="utf-8"))
