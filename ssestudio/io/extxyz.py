"""Extended XYZ reader: a lazy frame index over the file, frames parsed by ASE.

Each frame is an atom-count line, a comment line of ``key=value`` pairs (``Lattice``,
``Properties``, ``energy``, ``stress``, ``virial``, ``pbc``) and one line per atom.
Opening makes one pass that records where every frame starts; a frame is parsed when
asked for by handing its text to ASE's extxyz parser, so every ASE feature is kept.
Bulk reads of positions and cells skip ASE: the atom lines of many frames are split at
once and the position columns converted in one vectorised step (when all frames share
one ``Properties`` layout).

Quantities and units: energy eV, forces eV/Å, stress eV/Å^3 Voigt with ASE's sign; a
``virial`` (eV, 3x3, 9 or Voigt 6 numbers) becomes ``stress = -virial / volume``.
Velocities come from ASE's ``momenta`` column (ASE units) or from a ``vel``/``velocities``
column, read as Å/fs (the GPUMD convention). No time is stored in the format: pass
``timestep_fs``. The incomplete last frame of a file cut short is dropped with a warning.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ssestudio.core.errors import TrajectoryFormatError
from ssestudio.core.units import FS
from ssestudio.io.base import Frame, Trajectory, info_from_frame
from ssestudio.io.registry import (TextBuffer, check_positive, register_reader,
                                   warn_dropped_frame)

_LATTICE = re.compile(rb'Lattice\s*=\s*"([^"]*)"')
_PROPERTIES = re.compile(rb"Properties\s*=\s*(\S+)")
_DEFAULT_PROPERTIES = b"species:S:1:pos:R:3"
_BATCH = 256


def _sniff(head: bytes) -> bool:
    lines = head.split(b"\n", 3)
    return len(lines) > 2 and lines[0].strip().isdigit() and (
        b"Lattice=" in lines[1] or b"Properties=" in lines[1] or len(lines[2].split()) >= 4)


def _position_columns(properties: bytes) -> tuple[int, range] | None:
    """Total token count per atom line and the columns of ``pos``, or None if unusable."""
    fields = properties.decode(errors="replace").split(":")
    if len(fields) % 3:
        return None
    col, pos = 0, None
    for name, _kind, count in zip(fields[::3], fields[1::3], fields[2::3]):
        if not count.isdigit():
            return None
        if name == "pos":
            pos = range(col, col + int(count))
        col += int(count)
    return (col, pos) if pos is not None and len(pos) == 3 else None


def _voigt_stress(atoms, results: dict) -> np.ndarray | None:
    from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress

    if results.get("stress") is not None:
        stress = np.asarray(results["stress"], dtype=float)
        return full_3x3_to_voigt_6_stress(stress) if stress.shape == (3, 3) else stress
    virial = atoms.info.get("virial")
    if virial is None:
        return None
    virial = np.asarray(virial, dtype=float)
    full = voigt_6_to_full_3x3_stress(virial) if virial.size == 6 else virial.reshape(3, 3)
    return full_3x3_to_voigt_6_stress(-full / atoms.get_volume())


def _velocities(atoms) -> np.ndarray | None:
    if "momenta" in atoms.arrays:
        return atoms.get_velocities()
    for key in ("vel", "velo", "velocities"):
        if key in atoms.arrays:
            return np.asarray(atoms.arrays[key], dtype=float) / FS
    return None


@register_reader("extxyz", suffixes=(".xyz", ".extxyz"), sniff=_sniff)
class ExtxyzTrajectory(Trajectory):
    """Lazy reader of an extended XYZ trajectory (plain or ``.gz``).

    Parameters
    ----------
    path : str or Path
        The file.
    timestep_fs : float, optional
        Time between frames, fs; without it ``times_fs`` are frame indices and
        ``info.timestep_fs`` is ``None``.

    Raises
    ------
    TrajectoryFormatError
        A bad atom-count line, a frame with a different number of atoms, or a frame ASE
        cannot parse (file and line are named).
    """

    def __init__(self, path: str | Path, *, timestep_fs: float | None = None):
        check_positive(timestep_fs=timestep_fs)
        self._buf = TextBuffer(Path(path))
        self._timestep_fs = timestep_fs
        self._build_index()
        self._check_last_frame()
        if not len(self._starts):
            raise TrajectoryFormatError(f"{path} holds no complete extended XYZ frame")
        first = self._atoms(0)
        self.symbols = tuple(first.get_chemical_symbols())
        self.masses = first.get_masses()
        self.info = info_from_frame(
            "extxyz", [path], self._frame_from_atoms(0, first), timestep_fs=timestep_fs,
            extra={"first_comment": self._comment(0).decode(errors="replace")})

    def _build_index(self) -> None:
        buf, starts, ends, pos, n0 = self._buf, [], [], 0, None
        while pos < buf.size:
            line, nxt = buf.line(pos)
            if not line.strip() and buf.rest_is_blank(pos):
                break
            try:
                n = int(line)
            except ValueError:
                raise buf.error(pos, f"expected the atom count of frame {len(starts)}, found "
                                     f"{line[:60]!r}") from None
            if n0 is not None and n != n0:
                raise buf.error(pos, f"frame {len(starts)} has {n} atoms but frame 0 has {n0}; "
                                     "trajectories with a changing number of atoms are not supported")
            end = buf.skip_lines(nxt, n + 1, hint=(ends[-1] - starts[-1]) if ends else 80 * n)
            if end is None:
                warn_dropped_frame(buf.path, len(starts), "fewer lines than atoms")
                break
            n0 = n
            starts.append(pos)
            ends.append(end)
            pos = end
        self._starts = np.array(starts, dtype=np.int64)
        self._ends = np.array(ends, dtype=np.int64)
        props = {(_PROPERTIES.search(self._comment(i)) or [None, _DEFAULT_PROPERTIES])[1]
                 for i in range(len(starts))}
        self._columns = _position_columns(props.pop()) if len(props) == 1 else None

    def _check_last_frame(self) -> None:
        last = len(self._starts) - 1
        if last < 0 or self._ends[-1] != self._buf.size or self._buf.u8[-1] == 10:
            return  # only a frame that runs into an unterminated end of file can be cut
        try:
            self._atoms(last)
            cut = self._buf.last_line_cut()
        except TrajectoryFormatError:
            cut = True
        if cut:
            warn_dropped_frame(self._buf.path, last, "its last line is cut short")
            self._starts, self._ends = self._starts[:-1], self._ends[:-1]

    def _comment(self, index: int) -> bytes:
        start = self._buf.line(int(self._starts[index]))[1]
        return self._buf.line(start)[0]

    def _atoms(self, index: int):
        from ase.io import read

        text = bytes(self._buf.data[self._starts[index]:self._ends[index]]).decode(errors="replace")
        try:
            atoms = read(io.StringIO(text), format="extxyz")
        except Exception as exc:  # ASE raises many types for bad text
            raise self._buf.error(int(self._starts[index]), f"frame {index} is not valid "
                                  f"extended XYZ ({type(exc).__name__}: {exc})") from exc
        if hasattr(self, "symbols") and tuple(atoms.get_chemical_symbols()) != self.symbols:
            raise self._buf.error(int(self._starts[index]), f"frame {index} has other species "
                                  "or order than frame 0; a trajectory keeps the same atoms")
        return atoms

    def _frame_from_atoms(self, index: int, atoms) -> Frame:
        results = dict(atoms.calc.results) if atoms.calc is not None else {}
        energy = results.get("energy", atoms.info.get("energy"))
        forces = results.get("forces", atoms.arrays.get("forces"))
        return Frame(index=index, positions=atoms.positions.copy(), cell=atoms.cell[:].copy(),
                     time_fs=float(self._read_times_fs(np.array([index]))[0]),
                     pbc=tuple(bool(p) for p in atoms.pbc), velocities=_velocities(atoms),
                     energy=None if energy is None else float(energy),
                     forces=None if forces is None else np.asarray(forces, dtype=float),
                     stress=_voigt_stress(atoms, results))

    # ---- Trajectory interface --------------------------------------------------------
    def _n_frames(self) -> int:
        return len(self._starts)

    def _read_frame(self, index: int) -> Frame:
        return self._frame_from_atoms(index, self._atoms(index))

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        if self._columns is None:
            return super()._read_positions(indices)
        ncol, pos = self._columns
        out = np.empty((len(indices), self.n_atoms, 3))
        for a in range(0, len(indices), _BATCH):
            idx = np.asarray(indices[a:a + _BATCH], dtype=np.int64)
            blocks = [self._buf.line(self._buf.line(int(s))[1])[1] for s in self._starts[idx]]
            blob = b"\n".join(self._buf.data[b:e] for b, e in zip(blocks, self._ends[idx]))
            tokens = blob.split()
            if len(tokens) != len(idx) * self.n_atoms * ncol:
                return super()._read_positions(indices)  # let ASE name the bad frame
            table = np.array(tokens).reshape(len(idx), self.n_atoms, ncol)
            try:
                out[a:a + _BATCH] = table[:, :, pos.start:pos.stop].astype(float)
            except ValueError:
                return super()._read_positions(indices)
        return out

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        out = np.zeros((len(indices), 3, 3))
        for k, i in enumerate(indices):
            match = _LATTICE.search(self._comment(int(i)))
            if match is not None:
                try:
                    out[k] = np.array(match[1].split(), dtype=float).reshape(3, 3)
                except ValueError:
                    out[k] = self._read_frame(int(i)).cell  # ASE names the problem
        return out

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        return np.asarray(indices, dtype=float) * (self._timestep_fs or 1.0)

    def close(self) -> None:
        """Release the file buffer (idempotent)."""
        self._buf.close()
