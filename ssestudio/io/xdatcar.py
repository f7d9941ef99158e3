"""VASP XDATCAR reader (plain or ``.gz``), constant and variable cell.

An XDATCAR is a POSCAR-like header (comment, scale, three cell vectors, species, counts)
followed by frames, each a ``Direct configuration=  n`` line and one coordinate line per
atom. Variable-cell runs (``ISIF=3``) repeat the header before every frame. Opening a
file makes one pass that records where each frame's coordinates start and end (and the
cell in force for it); coordinates are parsed only when asked for, many frames at once
with one vectorised conversion.

Damage is handled so that a run killed while writing stays usable: an incomplete last
frame (fewer coordinate lines than atoms, a header without frame, a line cut short) is
dropped with a :class:`UserWarning`; anything unreadable before the last frame raises
:class:`~ssestudio.core.errors.TrajectoryFormatError` naming the file and line.

XDATCAR does not store the time step: pass ``timestep_fs`` (``POTIM * NBLOCK``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo, check_symbols
from ssestudio.io.registry import (TextBuffer, check_positive, register_reader,
                                   warn_dropped_frame)

#: Frames parsed per vectorised conversion (bounds the temporary text copy).
_BATCH = 512


@dataclass(frozen=True)
class _Header:
    comment: str
    cell: np.ndarray          # (3, 3) Å, scale applied
    cart_scale: np.ndarray    # (3,) factor for Cartesian coordinates
    species: tuple[str, ...] | None
    counts: tuple[int, ...]
    end: int                  # byte offset just after the counts line


def _sniff(head: bytes) -> bool:
    lines = head.splitlines()
    return len(lines) > 7 and any(
        ln.lstrip().lower().startswith((b"direct", b"cartesian")) for ln in lines[6:9])


def _numbers(buf: TextBuffer, pos: int, n: tuple[int, ...], what: str) -> tuple[list[float], int]:
    line, nxt = buf.line(pos)
    try:
        vals = [float(x) for x in line.split()]
    except ValueError:
        vals = []
    if len(vals) not in n:
        raise buf.error(pos, f"expected {what}, found {line[:60]!r}")
    return vals, nxt


def _scaled_cell(scale: list[float], cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply POSCAR scaling: one factor, a negative target volume, or three factors."""
    if len(scale) == 3:
        factors = np.array(scale)
    elif scale[0] < 0:
        factors = np.full(3, (-scale[0] / abs(np.linalg.det(cell))) ** (1.0 / 3.0))
    else:
        factors = np.full(3, scale[0])
    return cell * factors[None, :], factors


def _parse_header(buf: TextBuffer, pos: int) -> _Header:
    comment, p = buf.line(pos)
    scale, p = _numbers(buf, p, (1, 3), "the scale factor (1 or 3 numbers)")
    rows = []
    for _ in range(3):
        row, p = _numbers(buf, p, (3,), "a cell vector (3 numbers)")
        rows.append(row)
    cell, factors = _scaled_cell(scale, np.array(rows))
    line, p_next = buf.line(p)
    species = None
    if not all(tok.isdigit() for tok in line.split()):
        species = tuple(tok.decode(errors="replace").split("_")[0].split("/")[0]
                        for tok in line.split())
        p = p_next
    counts_line, end = buf.line(p)
    try:
        counts = tuple(int(x) for x in counts_line.split())
    except ValueError:
        counts = ()
    if not counts or (species is not None and len(species) != len(counts)):
        raise buf.error(p, f"expected {len(species or ()) or 'the'} atom counts matching the "
                           f"species line, found {counts_line[:60]!r}")
    return _Header(comment.decode(errors="replace").strip(), cell, factors, species, counts, end)


def _expand_symbols(header: _Header, symbols: Sequence[str] | None, path: Path) -> tuple[str, ...]:
    n_atoms, counts = sum(header.counts), header.counts
    names = list(symbols) if symbols is not None else header.species
    if names is None:  # VASP 4 style: species may be named in the comment line
        from ase.data import atomic_numbers

        comment = header.comment.split()
        names = comment if len(comment) == len(counts) and all(
            s in atomic_numbers for s in comment) else None
    if names is None:
        raise UserInputError(f"{path} has no species line; pass symbols=[...] with one "
                             f"chemical symbol per species ({len(counts)} species, counts "
                             f"{' '.join(map(str, counts))})")
    if len(names) == n_atoms:
        return check_symbols(names)
    if len(names) != len(counts):
        raise UserInputError(f"{path}: got {len(names)} symbols but the file has "
                             f"{len(counts)} species and {n_atoms} atoms; give one symbol "
                             "per species or one per atom")
    return check_symbols([s for s, c in zip(names, counts) for _ in range(c)])


@register_reader("xdatcar", patterns=("*xdatcar*",), sniff=_sniff)
class XdatcarTrajectory(Trajectory):
    """Lazy reader of a VASP XDATCAR (``.gz`` decompressed into memory once).

    Parameters
    ----------
    path : str or Path
        The XDATCAR file.
    timestep_fs : float, optional
        Time between stored frames, fs (``POTIM * NBLOCK``). Without it, ``times_fs`` are
        frame indices and ``info.timestep_fs`` is ``None``.
    symbols : sequence of str, optional
        One symbol per species or per atom; overrides the file's species line, and is
        needed when the file has none.

    Raises
    ------
    TrajectoryFormatError
        Missing or broken header, unreadable frame (file and line are named).
    UserInputError
        No species information, or ``timestep_fs`` not positive.
    """

    def __init__(self, path: str | Path, *, timestep_fs: float | None = None,
                 symbols: Sequence[str] | None = None):
        check_positive(timestep_fs=timestep_fs)
        self._buf = TextBuffer(Path(path))
        if not self._buf.size:
            raise TrajectoryFormatError(f"{path} is empty; expected a VASP XDATCAR")
        header = _parse_header(self._buf, 0)
        self.symbols = _expand_symbols(header, symbols, self._buf.path)
        from ase.data import atomic_masses

        self.masses = atomic_masses[self.numbers]
        self._timestep_fs = timestep_fs
        self._build_index(header)
        self._check_last_frame()
        self.info = TrajectoryInfo(
            format="xdatcar", sources=(str(path),), timestep_fs=timestep_fs,
            extra={"comment": header.comment, "variable_cell": self._variable_cell,
                   "unwrapped": False})

    # ---- index -------------------------------------------------------------------
    def _build_index(self, first: _Header) -> None:
        buf, n_atoms = self._buf, sum(first.counts)
        frames: list[tuple] = []  # (start, end, cell, cartesian scale, direct?) per frame
        header, pos, self._variable_cell = first, first.end, False
        while pos < buf.size:
            line, nxt = buf.line(pos)
            key = line.lstrip()[:9].lower()
            if key.startswith((b"direct", b"cartesian")):
                end = buf.skip_lines(nxt, n_atoms, hint=40 * n_atoms)
                if end is None:
                    warn_dropped_frame(buf.path, len(frames), "fewer coordinate lines than atoms")
                    break
                frames.append((nxt, end, header.cell, header.cart_scale, key.startswith(b"direct")))
                pos = end
            elif not line.strip() and buf.rest_is_blank(pos):
                break
            elif buf.skip_lines(pos, 8) is None:
                warn_dropped_frame(buf.path, len(frames), "the file ends inside a cell header")
                break
            else:
                header = self._repeated_header(pos, first, len(frames))
                pos, self._variable_cell = header.end, True
        starts, ends, cells, scales, direct = zip(*frames) if frames else ([],) * 5
        self._starts = np.array(starts, dtype=np.int64)
        self._ends = np.array(ends, dtype=np.int64)
        self._cells = np.array(cells, dtype=float).reshape(-1, 3, 3)
        self._scales = np.array(scales, dtype=float).reshape(-1, 3)
        self._direct = np.array(direct, dtype=bool)

    def _repeated_header(self, pos: int, first: _Header, frame: int) -> _Header:
        buf = self._buf
        try:
            header = _parse_header(buf, pos)
        except TrajectoryFormatError:
            found = buf.line(pos)[0][:60]
            raise buf.error(pos, f"expected 'Direct configuration=' for frame {frame} or a "
                                 f"repeated cell header, found {found!r}; the frame before "
                                 "may have more lines than atoms, or the file is corrupt"
                            ) from None
        if header.counts != first.counts or (header.species or first.species) != first.species:
            raise buf.error(pos, f"frame {frame} has species {header.species} x {header.counts} "
                                 f"but the file starts with {first.species} x {first.counts}; "
                                 "a trajectory must keep the same atoms")
        return header

    def _check_last_frame(self) -> None:
        if not len(self._starts):
            return
        last = len(self._starts) - 1
        at_eof = self._ends[-1] == self._buf.size
        try:
            self._parse_coordinates(np.array([last]))
            cut = at_eof and self._buf.last_line_cut()
        except TrajectoryFormatError:
            if not (at_eof and self._buf.u8[-1] != 10):
                raise
            cut = True
        if cut:
            warn_dropped_frame(self._buf.path, last, "its last line is cut short")
            for name in ("_starts", "_ends", "_cells", "_scales", "_direct"):
                setattr(self, name, getattr(self, name)[:-1])

    # ---- parsing -----------------------------------------------------------------
    def _parse_coordinates(self, frames: np.ndarray) -> np.ndarray:
        """Raw coordinates of ``frames`` as written, shape (len(frames), n_atoms, 3)."""
        data = self._buf.data
        blob = b"\n".join(data[s:e] for s, e in zip(self._starts[frames], self._ends[frames]))
        try:  # text-mode fromstring: the fastest vectorised parser numpy has
            values = np.fromstring(blob, dtype=np.float64, sep=" ")
        except ValueError:  # numpy >= 2 raises on a non-number; older ones stop short
            values = None
        if values is None or values.size != len(frames) * self.n_atoms * 3:
            raise self._locate_bad_line(frames)
        return values.reshape(len(frames), self.n_atoms, 3)

    def _locate_bad_line(self, frames: np.ndarray) -> TrajectoryFormatError:
        for f in frames:
            pos = int(self._starts[f])
            while pos < self._ends[f]:
                line, nxt = self._buf.line(pos)
                try:
                    ok = len([float(x) for x in line.split()]) == 3
                except ValueError:
                    ok = False
                if not ok:
                    return self._buf.error(pos, f"frame {f}: expected 3 coordinates, found "
                                                f"{line[:60]!r}")
                pos = nxt
        return TrajectoryFormatError(f"{self._buf.path}: frames {frames.tolist()} hold the wrong "
                                     "number of coordinates")

    # ---- Trajectory interface --------------------------------------------------------
    def _n_frames(self) -> int:
        return len(self._starts)

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64)
        out = np.empty((len(indices), self.n_atoms, 3))
        for a in range(0, len(indices), _BATCH):
            idx = indices[a:a + _BATCH]
            raw = self._parse_coordinates(idx)
            direct, cells = self._direct[idx], self._cells[idx]
            out[a:a + _BATCH][direct] = np.einsum("fni,fij->fnj", raw[direct], cells[direct])
            out[a:a + _BATCH][~direct] = raw[~direct] * self._scales[idx][~direct][:, None, :]
        return out

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        return self._cells[np.asarray(indices, dtype=np.int64)].copy()

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        return np.asarray(indices, dtype=float) * (self._timestep_fs or 1.0)

    def _read_frame(self, index: int) -> Frame:
        idx = np.array([index])
        return Frame(index=index, positions=self._read_positions(idx)[0],
                     cell=self._read_cells(idx)[0], time_fs=float(self._read_times_fs(idx)[0]))

    def close(self) -> None:
        """Release the file buffer (idempotent)."""
        self._buf.close()
