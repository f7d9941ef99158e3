"""Reader of the CSV table of transport coefficients versus temperature.

The table has a header row and one row per run; several runs at one temperature are
fine. Columns (any order, extra columns ignored, ``#`` lines and blank lines skipped)::

    T_K,D_cm2_s,D_err_cm2_s             tracer diffusion coefficient, cm^2/s
    T_K,sigma_mS_cm,sigma_err_mS_cm     ionic conductivity, mS/cm
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ssestudio.core.errors import UserInputError

#: quantity -> (value column, error column); the temperature column is ``T_K``.
COLUMNS: dict[str, tuple[str, str]] = {
    "D": ("D_cm2_s", "D_err_cm2_s"),
    "sigma": ("sigma_mS_cm", "sigma_err_mS_cm"),
}


@dataclass(frozen=True)
class TransportTable:
    """Transport coefficients read from a CSV table.

    Attributes
    ----------
    quantity : {"D", "sigma"}
        Which coefficient the table holds.
    T_K : ndarray, shape (n,)
        Temperatures, K.
    values, errors : ndarray, shape (n,)
        Coefficient and its one-sigma error: cm^2/s for D, mS/cm for sigma.
    path : str
        Source file.
    """

    quantity: str
    T_K: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    path: str


def read_transport_table(path: str | Path, *, quantity: str | None = None) -> TransportTable:
    """Read ``T_K`` and D or sigma (with errors) from a CSV file.

    Parameters
    ----------
    path : str or Path
        CSV file with a header row (see the module docstring for the columns).
    quantity : {"D", "sigma"}, optional
        Which coefficient to read; by default the one whose columns are present (D when
        both are).

    Returns
    -------
    TransportTable

    Raises
    ------
    UserInputError
        When the file is missing, a needed column is missing (the expected columns are
        listed), a cell is not a number, a temperature, value or error is not positive
        (the row is named), or there are fewer than 3 distinct temperatures.
    """
    path = Path(path)
    if not path.is_file():
        raise UserInputError(f"transport table {path} not found; give a CSV file path")
    with path.open(newline="") as fh:
        lines = [(i, line) for i, line in enumerate(fh, start=1)
                 if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UserInputError(f"{path} is empty; expected a header row "
                             f"{_expected()} and one row per run")
    header = [h.strip() for h in next(csv.reader([lines[0][1]]))]
    quantity = _pick_quantity(header, quantity, path)
    names = ("T_K", *COLUMNS[quantity])
    index = [header.index(n) for n in names]
    rows = [(i, row) for (i, _), row in zip(lines[1:], csv.reader(l for _, l in lines[1:]))]
    data = np.array([[_number(row, j, names[k], i, path) for k, j in enumerate(index)]
                     for i, row in rows]).reshape(-1, 3)
    _check_positive(data, [i for i, _ in rows], names, path)
    n_T = len(np.unique(data[:, 0]))
    if n_T < 3:
        raise UserInputError(f"{path}: {n_T} distinct temperature(s); an Arrhenius analysis "
                             "needs at least 3 (several runs per temperature are fine)")
    return TransportTable(quantity=quantity, T_K=data[:, 0], values=data[:, 1],
                          errors=data[:, 2], path=str(path))


def _expected() -> str:
    return " or ".join(",".join(("T_K", *cols)) for cols in COLUMNS.values())


def _pick_quantity(header: list[str], quantity: str | None, path: Path) -> str:
    if quantity is not None and quantity not in COLUMNS:
        raise UserInputError(f"quantity must be one of {sorted(COLUMNS)}, got {quantity!r}")
    candidates = [quantity] if quantity else list(COLUMNS)
    for q in candidates:
        if all(n in header for n in ("T_K", *COLUMNS[q])):
            return q
    wanted = (",".join(("T_K", *COLUMNS[quantity])) if quantity else _expected())
    raise UserInputError(f"{path}: header {','.join(header)!r} lacks the needed columns; "
                         f"expected {wanted} (errors are one-sigma, same units)")


def _number(row: list[str], j: int, name: str, line: int, path: Path) -> float:
    text = row[j].strip() if j < len(row) else ""
    try:
        value = float(text)
    except ValueError:
        raise UserInputError(f"{path} row {line}, column {name}: {text!r} is not a number"
                             ) from None
    if not np.isfinite(value):
        raise UserInputError(f"{path} row {line}, column {name}: {text!r} is not finite")
    return value


def _check_positive(data: np.ndarray, lines: list[int], names: tuple[str, ...],
                    path: Path) -> None:
    for k, name in enumerate(names):
        bad = np.flatnonzero(data[:, k] <= 0)
        if bad.size:
            r = bad[0]
            raise UserInputError(
                f"{path} row {lines[r]} (T_K = {data[r, 0]:g}): {name} = {data[r, k]:g} must "
                f"be > 0; remove that run or correct it (a D or sigma of zero cannot be put "
                "on an Arrhenius plot)")
