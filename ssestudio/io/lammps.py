"""LAMMPS text dump reader (``dump atom`` / ``dump custom``), lazy with random access.

A frame is a set of ``ITEM:`` sections (``TIMESTEP``, optional ``TIME``, ``NUMBER OF
ATOMS``, ``BOX BOUNDS``) and an ``ITEM: ATOMS <columns>`` table. Opening makes one pass
that reads every frame's header and records where its atom table starts and ends; tables
are parsed on demand. Atoms are sorted by ``id`` in every frame.

Conversions (see https://docs.lammps.org/Howto_triclinic.html for the box):

* Orthogonal box ``lo hi`` per axis; triclinic ``xy xz yz`` boxes give bounding-box
  values that are turned back into ``xlo = xlo_bound - min(0, xy, xz, xy + xz)``,
  ``xhi = xhi_bound - max(0, xy, xz, xy + xz)``, ``ylo = ylo_bound - min(0, yz)``,
  ``yhi = yhi_bound - max(0, yz)``, then cell rows ``a = (xhi - xlo, 0, 0)``,
  ``b = (xy, yhi - ylo, 0)``, ``c = (xz, yz, zhi - zlo)``; ``abc origin`` boxes (general
  triclinic) give the vectors directly. Positions are shifted by ``-(xlo, ylo, zlo)``
  so they lie in the cell as ASE defines it.
* Positions from ``xu yu zu`` or ``xsu ysu zsu`` (unwrapped), else ``x y z`` or
  ``xs ys zs``, unwrapped with image flags ``ix iy iz`` when present
  (``info.extra["unwrapped"]`` says which).
* Velocities ``vx vy vz`` and forces ``fx fy fz`` converted from the LAMMPS ``units``
  (``metal``: Å/ps, eV/Å; ``real``: Å/fs, kcal/mol/Å) to Å/ASE-time and eV/Å.
* Species from an ``element`` column, else ``type`` with ``type_map``, else ``symbols``.
* Times: ``step * md_timestep_fs`` when ``md_timestep_fs`` is given, else the dump's
  ``ITEM: TIME``, else ``index * timestep_fs``, else the frame index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.core.units import FS, PS
from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo, check_symbols
from ssestudio.io.registry import (TextBuffer, check_positive, register_reader,
                                   warn_dropped_frame)

_POSITION_SETS = ((("xu", "yu", "zu"), False, True), (("xsu", "ysu", "zsu"), True, True),
                  (("x", "y", "z"), False, False), (("xs", "ys", "zs"), True, False))


def _unit_factors(units: str) -> tuple[float, float, float]:
    """Velocity, force and time factors from LAMMPS ``units`` to Å/ASE-time, eV/Å, fs."""
    from ase import units as u

    table = {"metal": (1.0 / PS, 1.0, 1000.0), "real": (1.0 / FS, u.kcal / u.mol, 1.0)}
    if units not in table:
        raise UserInputError(f"LAMMPS units {units!r} are not supported; use 'metal' or 'real'")
    return table[units]


def _box(item: bytes, lines: list[bytes]) -> tuple[np.ndarray, np.ndarray, tuple[bool, ...]]:
    """Cell (rows, Å), origin (Å) and periodicity from a ``BOX BOUNDS`` section."""
    flags = item.split()[2:]
    vals = np.array([[float(x) for x in ln.split()] for ln in lines])
    if flags[:1] == [b"abc"]:  # general triclinic: "ax ay az ox" per row
        cell, origin, flags = vals[:, :3], vals[:, 3].copy(), flags[2:]
    elif flags[:3] == [b"xy", b"xz", b"yz"]:
        (xlo_b, xhi_b, xy), (ylo_b, yhi_b, xz), (zlo, zhi, yz) = vals
        xlo, xhi = xlo_b - min(0.0, xy, xz, xy + xz), xhi_b - max(0.0, xy, xz, xy + xz)
        ylo, yhi = ylo_b - min(0.0, yz), yhi_b - max(0.0, yz)
        cell = np.array([[xhi - xlo, 0.0, 0.0], [xy, yhi - ylo, 0.0], [xz, yz, zhi - zlo]])
        origin, flags = np.array([xlo, ylo, zlo]), flags[3:]
    else:
        cell, origin = np.diag(vals[:, 1] - vals[:, 0]), vals[:, 0].copy()
    pbc = tuple(f == b"pp" for f in flags) if len(flags) == 3 else (True, True, True)
    return cell, origin, pbc


def _sniff(head: bytes) -> bool:
    return head.lstrip().startswith((b"ITEM: TIMESTEP", b"ITEM: UNITS", b"ITEM: TIME"))


@register_reader("lammps-dump", suffixes=(".lammpstrj", ".dump"), patterns=("dump.*",),
                 sniff=_sniff)
class LammpsDumpTrajectory(Trajectory):
    """Lazy reader of a LAMMPS text dump (plain or ``.gz``).

    Parameters
    ----------
    path : str or Path
        The dump file.
    timestep_fs : float, optional
        Time between stored frames, fs (when neither ``md_timestep_fs`` nor
        ``ITEM: TIME`` gives times).
    md_timestep_fs : float, optional
        The MD integration time step, fs: frame times become ``step * md_timestep_fs``.
    symbols : sequence of str, optional
        One symbol per atom, in ``id`` order (instead of ``element`` or ``type_map``).
    type_map : dict, optional
        Atom type to symbol, e.g. ``{1: "Li", 2: "P", 3: "S"}``.
    units : {"metal", "real"}, optional
        LAMMPS units of the run, for velocities, forces and ``ITEM: TIME``; default the
        dump's ``ITEM: UNITS`` if it has one, else ``"metal"``.

    Raises
    ------
    UserInputError
        No way to know the species, or contradictory time options.
    TrajectoryFormatError
        Unexpected content, changing atom count or columns (file and line are named).
    """

    def __init__(self, path: str | Path, *, timestep_fs: float | None = None,
                 md_timestep_fs: float | None = None, symbols: Sequence[str] | None = None,
                 type_map: dict | None = None, units: Literal["metal", "real"] | None = None):
        check_positive(timestep_fs=timestep_fs, md_timestep_fs=md_timestep_fs)
        if timestep_fs is not None and md_timestep_fs is not None:
            raise UserInputError("give md_timestep_fs (frame times from step numbers) or "
                                 "timestep_fs (time between frames), not both")
        self._buf = TextBuffer(Path(path))
        self._build_index()
        if not len(self._starts):
            raise TrajectoryFormatError(f"{path} holds no complete LAMMPS dump frame")
        units = units or self._file_units or "metal"
        self._vel_factor, self._force_factor, time_factor = _unit_factors(units)
        self._setup_columns()
        self._check_last_frame()
        first = self._numeric(0)
        self._ids = np.sort(first[:, self._col["id"]].astype(np.int64)) if "id" in self._col else None
        self.symbols = self._species(first, symbols, type_map)
        from ase.data import atomic_masses

        self.masses = atomic_masses[self.numbers]
        self._times, dt = self._frame_times(md_timestep_fs, timestep_fs, time_factor)
        self.info = TrajectoryInfo(
            format="lammps-dump", sources=(str(path),), timestep_fs=dt,
            has_velocities=self._vel is not None, has_forces=self._force is not None,
            extra={"columns": list(self._columns), "units": units,
                   "unwrapped": self._unwrapped, "md_timestep_fs": md_timestep_fs})

    # ---- index -------------------------------------------------------------------
    def _read_header(self, pos: int) -> tuple[dict, int] | None:
        """Header items of the frame at ``pos`` and where its atom table starts; ``None``
        when the file ends inside the header."""
        buf, out = self._buf, {}
        while pos < buf.size:
            line, nxt = buf.line(pos)
            if not line.startswith(b"ITEM:"):
                raise buf.error(pos, f"expected an 'ITEM:' line, found {line[:60]!r}; the frame "
                                     "before may have more atom lines than NUMBER OF ATOMS")
            item = line[5:].strip()
            if item.startswith(b"ATOMS"):
                out["columns"] = tuple(c.decode() for c in item.split()[1:])
                return out, nxt
            n_lines = 3 if item.startswith(b"BOX BOUNDS") else 1
            end = buf.skip_lines(nxt, n_lines)
            if end is None:
                return None
            lines = bytes(buf.data[nxt:end]).splitlines()
            try:
                out.update(self._header_item(item, lines))
            except (ValueError, IndexError):
                raise buf.error(nxt, f"cannot read the value of 'ITEM: {item.decode()}': "
                                     f"{b' / '.join(lines)[:80]!r}") from None
            pos = end
        return None

    def _header_item(self, item: bytes, lines: list[bytes]) -> dict:
        key = item.decode()
        if key == "TIMESTEP":
            return {"step": int(lines[0].split()[0])}
        if key == "TIME":
            return {"time": float(lines[0])}
        if key == "NUMBER OF ATOMS":
            return {"n_atoms": int(lines[0])}
        if key == "UNITS":
            return {"units": lines[0].strip().decode()}
        if key.startswith("BOX BOUNDS"):
            cell, origin, pbc = _box(item, lines)
            return {"cell": cell, "origin": origin, "pbc": pbc}
        raise ValueError(key)

    def _build_index(self) -> None:
        buf, pos, frames = self._buf, 0, []
        while pos < buf.size:
            if not buf.line(pos)[0].strip() and buf.rest_is_blank(pos):
                break
            parsed = self._read_header(pos)
            if parsed is None:
                warn_dropped_frame(buf.path, len(frames), "the file ends inside its header")
                break
            head, start = parsed
            missing = {"step", "n_atoms", "cell"} - set(head)
            if missing:
                raise buf.error(pos, f"frame {len(frames)} lacks ITEM: "
                                     f"{', '.join(sorted(missing))}; not a LAMMPS text dump?")
            ref = frames[0][0] if frames else head
            if (head["n_atoms"], head["columns"]) != (ref["n_atoms"], ref["columns"]):
                raise buf.error(pos, f"frame {len(frames)} has {head['n_atoms']} atoms and "
                                     f"columns {head['columns']}, frame 0 {ref['n_atoms']} and "
                                     f"{ref['columns']}; they must not change")
            end = buf.skip_lines(start, head["n_atoms"], hint=60 * head["n_atoms"])
            if end is None:
                warn_dropped_frame(buf.path, len(frames), "fewer atom lines than atoms")
                break
            frames.append((head, start, end))
            pos = end
        heads = [f[0] for f in frames]
        self._starts = np.array([f[1] for f in frames], dtype=np.int64)
        self._ends = np.array([f[2] for f in frames], dtype=np.int64)
        self._steps = np.array([h["step"] for h in heads], dtype=np.int64)
        self._dump_times = (np.array([h["time"] for h in heads])
                            if heads and all("time" in h for h in heads) else None)
        self._cells = np.array([h["cell"] for h in heads]).reshape(-1, 3, 3)
        self._origins = np.array([h["origin"] for h in heads]).reshape(-1, 3)
        self._pbc = heads[0]["pbc"] if heads else (True, True, True)
        self._columns = heads[0]["columns"] if heads else ()
        self._n_atoms_header = heads[0]["n_atoms"] if heads else 0
        self._file_units = heads[0].get("units") if heads else None

    def _setup_columns(self) -> None:
        self._col = {name: k for k, name in enumerate(self._columns)}
        for names, scaled, unwrapped in _POSITION_SETS:
            if all(n in self._col for n in names):
                self._pos = [self._col[n] for n in names]
                self._scaled, self._unwrapped = scaled, unwrapped
                break
        else:
            raise TrajectoryFormatError(
                f"{self._buf.path}: ATOMS columns {' '.join(self._columns)} hold no positions; "
                "dump x y z, xs ys zs, xu yu zu or xsu ysu zsu")
        images = [self._col.get(n) for n in ("ix", "iy", "iz")]
        self._images = images if None not in images and not self._unwrapped else None
        self._unwrapped = self._unwrapped or self._images is not None

        def triple(names):
            idx = [self._col.get(n) for n in names]
            return None if None in idx else idx

        self._vel, self._force = triple(("vx", "vy", "vz")), triple(("fx", "fy", "fz"))

    def _check_last_frame(self) -> None:
        last = len(self._starts) - 1
        if self._ends[-1] != self._buf.size or self._buf.u8[-1] == 10:
            return  # only a frame that runs into an unterminated end of file can be cut
        try:
            self._numeric(last)
            cut = self._buf.last_line_cut()
        except TrajectoryFormatError:
            cut = True
        if cut and last == 0:
            raise TrajectoryFormatError(f"{self._buf.path} holds no complete LAMMPS dump frame")
        if cut:
            warn_dropped_frame(self._buf.path, last, "its last line is cut short")
            for name in ("_starts", "_ends", "_steps", "_cells", "_origins"):
                setattr(self, name, getattr(self, name)[:-1])
            if self._dump_times is not None:
                self._dump_times = self._dump_times[:-1]

    def _frame_times(self, md_timestep_fs, timestep_fs, time_factor):
        n = len(self._starts)
        if md_timestep_fs is not None:
            times = self._steps * float(md_timestep_fs)
        elif self._dump_times is not None:
            times = self._dump_times * time_factor
        else:
            return np.arange(n) * (timestep_fs or 1.0), timestep_fs
        steps = np.diff(times)
        uniform = len(steps) > 0 and np.allclose(steps, steps[0], rtol=1e-9, atol=0)
        return times, float(steps[0]) if uniform else None

    def _species(self, values: np.ndarray, symbols, type_map) -> tuple[str, ...]:
        order = self._order(values, 0)
        if symbols is not None:
            if len(symbols) != len(order):
                raise UserInputError(f"symbols has {len(symbols)} entries but the dump has "
                                     f"{len(order)} atoms; give one per atom in id order")
            return check_symbols(symbols)
        if "element" in self._col:
            return check_symbols([s.decode() for s in self._table(0)[order, self._col["element"]]])
        types = (values[order, self._col["type"]].astype(int)
                 if "type" in self._col else None)
        if types is None or not type_map:
            found = f" (types {sorted(set(types.tolist()))})" if types is not None else ""
            raise UserInputError(f"{self._buf.path} has no element column; pass type_map="
                                 f"{{1: 'Li', 2: 'P', ...}} mapping its LAMMPS atom types{found} "
                                 "to chemical symbols")
        mapping = {int(k): str(v) for k, v in type_map.items()}
        missing = sorted(set(types.tolist()) - set(mapping))
        if missing:
            raise UserInputError(f"type_map has no symbol for LAMMPS atom type(s) {missing}")
        return check_symbols([mapping[t] for t in types])

    # ---- parsing -----------------------------------------------------------------
    def _table(self, index: int) -> np.ndarray:
        """Atom table of frame ``index`` as tokens, shape (n_atoms, n_columns), bytes."""
        block = bytes(self._buf.data[self._starts[index]:self._ends[index]])
        tokens = block.split()
        ncol = len(self._columns)
        if len(tokens) != self._n_atoms_header * ncol:
            raise self._bad_line(index)
        return np.array(tokens).reshape(-1, ncol)

    def _bad_line(self, index: int) -> TrajectoryFormatError:
        """The error naming the first unreadable atom line of frame ``index``."""
        pos = int(self._starts[index])
        while pos < self._ends[index]:
            line, nxt = self._buf.line(pos)
            if not self._line_ok(line):
                return self._buf.error(pos, f"frame {index}: bad atom line {line[:60]!r} "
                                            f"(columns: {' '.join(self._columns)})")
            pos = nxt
        return TrajectoryFormatError(f"{self._buf.path}: frame {index} cannot be parsed")

    def _numeric(self, index: int) -> np.ndarray:
        """Atom table of frame ``index`` as floats, shape (n_atoms, n_columns), in file
        order; an ``element`` column is NaN."""
        n, ncol = self._n_atoms_header, len(self._columns)
        if "element" in self._col:
            table = self._table(index)
            keep = [k for k, name in enumerate(self._columns) if name != "element"]
            try:
                out = np.full(table.shape, np.nan)
                out[:, keep] = table[:, keep].astype(float)
                return out
            except ValueError:
                pass
        else:
            block = bytes(self._buf.data[self._starts[index]:self._ends[index]])
            try:  # text-mode fromstring: the fastest vectorised parser numpy has
                values = np.fromstring(block, dtype=np.float64, sep=" ")
            except ValueError:  # numpy >= 2 raises on a non-number; older ones stop short
                values = np.empty(0)
            if values.size == n * ncol:
                return values.reshape(n, ncol)
        raise self._bad_line(index)

    def _line_ok(self, line: bytes) -> bool:
        tokens = line.split()
        try:
            [float(t) for t, name in zip(tokens, self._columns) if name != "element"]
        except ValueError:
            return False
        return len(tokens) == len(self._columns)

    def _order(self, values: np.ndarray, index: int) -> np.ndarray:
        if "id" not in self._col:
            return np.arange(len(values))
        ids = values[:, self._col["id"]].astype(np.int64)
        order = np.argsort(ids, kind="stable")
        if getattr(self, "_ids", None) is not None and not np.array_equal(ids[order], self._ids):
            raise self._buf.error(int(self._starts[index]), f"frame {index} holds other atom ids "
                                  "than frame 0; dumps of a changing set of atoms are not supported")
        return order

    def _sorted_values(self, index: int) -> np.ndarray:
        values = self._numeric(index)
        return values[self._order(values, index)]

    def _positions_from(self, values: np.ndarray, index: int) -> np.ndarray:
        cell = self._cells[index]
        xyz = values[:, self._pos]
        pos = xyz @ cell if self._scaled else xyz - self._origins[index]
        if self._images is not None:
            pos = pos + values[:, self._images] @ cell
        return pos

    # ---- Trajectory interface --------------------------------------------------------
    def _n_frames(self) -> int:
        return len(self._starts)

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), self.n_atoms, 3))
        for k, i in enumerate(indices):
            out[k] = self._positions_from(self._sorted_values(int(i)), int(i))
        return out

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        return self._cells[np.asarray(indices, dtype=np.int64)].copy()

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        return self._times[np.asarray(indices, dtype=np.int64)].astype(float)

    def _read_frame(self, index: int) -> Frame:
        values = self._sorted_values(index)
        return Frame(
            index=index, positions=self._positions_from(values, index),
            cell=self._cells[index].copy(), time_fs=float(self._times[index]), pbc=self._pbc,
            velocities=None if self._vel is None else values[:, self._vel] * self._vel_factor,
            forces=None if self._force is None else values[:, self._force] * self._force_factor)

    @property
    def steps(self) -> np.ndarray:
        """MD step numbers of the frames, shape (n_frames,)."""
        return self._steps.copy()

    def close(self) -> None:
        """Release the file buffer (idempotent)."""
        self._buf.close()
