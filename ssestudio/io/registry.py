"""Registry of trajectory readers, format detection and :func:`open_trajectory`.

A reader is a :class:`~ssestudio.io.base.Trajectory` subclass registered under a name with
:func:`register_reader`; its constructor takes one path and keyword-only options. Formats
are looked up by name, by file name (suffixes and glob patterns, ``.gz`` stripped) and,
when the name says nothing, by sniffing the first bytes of the file.

This module also holds the two pieces every reader shares: :class:`SegmentedTrajectory`,
which reads consecutive files as one trajectory, and :class:`TextBuffer`, the byte view
of a text file that the text readers index.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import gzip
import importlib
import inspect
import mmap
import warnings
import zlib
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ssestudio.core.errors import TrajectoryFormatError, UserInputError
from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo

#: Modules whose import registers the built-in readers.
_BUILTIN_MODULES = ("xdatcar", "extxyz", "asetraj", "lammps", "native")
_SNIFF_BYTES = 4096


@dataclasses.dataclass(frozen=True)
class ReaderSpec:
    """One registered format.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"xdatcar"``.
    reader : type
        :class:`Trajectory` subclass; ``reader(path, **options)`` opens one file.
    suffixes : tuple of str
        Lower-case file-name endings (``".xyz"``), matched after stripping ``.gz``.
    patterns : tuple of str
        Lower-case glob patterns on the file name (``"xdatcar*"``), ``.gz`` stripped.
    sniff : callable or None
        ``sniff(head: bytes) -> bool`` on the first 4 KiB (decompressed for ``.gz``).
    options : tuple of str
        Keyword options the reader accepts.
    """

    name: str
    reader: type
    suffixes: tuple[str, ...]
    patterns: tuple[str, ...]
    sniff: Callable[[bytes], bool] | None
    options: tuple[str, ...]


_REGISTRY: dict[str, ReaderSpec] = {}


def register_reader(name: str, *, suffixes: Sequence[str] = (), patterns: Sequence[str] = (),
                    sniff: Callable[[bytes], bool] | None = None) -> Callable[[type], type]:
    """Class decorator that registers a :class:`Trajectory` reader under ``name``.

    Parameters
    ----------
    name : str
        Registry name passed as ``format=`` to :func:`open_trajectory`.
    suffixes : sequence of str
        File-name endings such as ``".xyz"`` (case-insensitive, ``.gz`` stripped first).
    patterns : sequence of str
        Glob patterns on the file name such as ``"dump.*"`` (case-insensitive).
    sniff : callable, optional
        ``sniff(head: bytes) -> bool``, true when the first bytes look like this format.

    Returns
    -------
    callable
        The decorator; it returns the class unchanged.
    """

    def decorator(reader: type) -> type:
        params = list(inspect.signature(reader).parameters.values())[1:]
        options = tuple(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))
        _REGISTRY[name] = ReaderSpec(name, reader, tuple(s.lower() for s in suffixes),
                                     tuple(p.lower() for p in patterns), sniff, options)
        return reader

    return decorator


def _load_builtin_readers() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"ssestudio.io.{module}")


def available_formats() -> tuple[str, ...]:
    """Names of all registered formats, sorted."""
    _load_builtin_readers()
    return tuple(sorted(_REGISTRY))


def reader_spec(name: str) -> ReaderSpec:
    """The :class:`ReaderSpec` registered as ``name``; :class:`UserInputError` if none."""
    _load_builtin_readers()
    if name not in _REGISTRY:
        raise UserInputError(f"unknown trajectory format {name!r}; available formats: "
                             f"{', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def _read_head(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read(_SNIFF_BYTES)
        with open(path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return b""


def detect_format(path: str | Path) -> str:
    """Registry name of the format of ``path``: from its extension, else a name pattern,
    else its first bytes.

    Raises
    ------
    UserInputError
        When no registered format claims the file.
    """
    _load_builtin_readers()
    path = Path(path)
    name = path.name.lower().removesuffix(".gz")
    by_suffix = [s for s in _REGISTRY.values() if name.endswith(s.suffixes)]
    by_pattern = [s for s in _REGISTRY.values() if any(fnmatch.fnmatch(name, p) for p in s.patterns)]
    for matches in (by_suffix, by_pattern):  # the extension is the strongest hint
        if len(matches) == 1:
            return matches[0].name
    head = _read_head(path)
    candidates = by_suffix + by_pattern or list(_REGISTRY.values())
    sniffed = [s for s in candidates if s.sniff is not None and s.sniff(head)]
    if sniffed:
        return sniffed[0].name
    raise UserInputError(f"cannot tell the trajectory format of {path} from its name or content; "
                         f"pass format= one of: {', '.join(sorted(_REGISTRY))}")


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out = [Path(p) for p in paths]
    if not out:
        raise UserInputError("no trajectory file given; pass a path or a list of paths")
    for p in out:
        if not p.is_file():
            raise UserInputError(f"trajectory file {p} does not exist (or is not a file); "
                                 "check the path")
    return out


def open_trajectory(paths: str | Path | Sequence[str | Path], format: str | None = None, *,
                    timestep_fs: float | None = None, symbols: Sequence[str] | None = None,
                    type_map: dict | None = None, **options) -> Trajectory:
    """Open one trajectory file, or several consecutive segments as one trajectory.

    Parameters
    ----------
    paths : str, Path or sequence of them
        The file, or segments in order (e.g. ``run1/XDATCAR`` ... ``run5/XDATCAR``). All
        segments must hold the same atoms in the same order.
    format : str, optional
        A name from :func:`available_formats`; detected from the first file when omitted.
    timestep_fs : float, optional
        Time between stored frames, fs, for formats that do not record it (XDATCAR,
        extended XYZ, ASE ``.traj``, LAMMPS dumps without ``md_timestep_fs``). When no
        time information exists at all, ``times_fs`` are the frame indices (1 "fs" per
        frame) and ``info.timestep_fs`` is ``None``: check it before computing rates.
    symbols : sequence of str, optional
        Chemical symbols for files that lack them (old XDATCAR, LAMMPS dumps).
    type_map : dict, optional
        LAMMPS atom type to chemical symbol, e.g. ``{1: "Li", 2: "P", 3: "S"}``.
    **options
        Format-specific options, e.g. ``md_timestep_fs`` and ``units`` for LAMMPS dumps.

    Returns
    -------
    Trajectory
        Lazy reader; a :class:`SegmentedTrajectory` when several paths are given.

    Raises
    ------
    UserInputError
        Missing file, unknown format or option, segments with different atoms.
    TrajectoryFormatError
        A file is corrupt or not in the format it claims.
    """
    files = _as_paths(paths)
    spec = reader_spec(format) if format is not None else reader_spec(detect_format(files[0]))
    given = {"timestep_fs": timestep_fs, "symbols": symbols, "type_map": type_map}
    kwargs = {k: v for k, v in given.items() if v is not None} | options
    unknown = sorted(set(kwargs) - set(spec.options))
    if unknown:
        raise UserInputError(f"format {spec.name!r} does not take option(s) {', '.join(unknown)}; "
                             f"it accepts: {', '.join(spec.options) or 'none'}")
    segments: list[Trajectory] = []
    try:
        for path in files:
            segments.append(spec.reader(path, **kwargs))
        return segments[0] if len(segments) == 1 else SegmentedTrajectory(segments)
    except BaseException:
        for seg in segments:
            seg.close()
        raise


class SegmentedTrajectory(Trajectory):
    """Consecutive trajectory segments read as one trajectory.

    Frame ``i`` of the whole is frame ``i - start_k`` of segment ``k``. Times continue
    across segments: a segment whose first time is not after the previous segment's last
    time (e.g. every XDATCAR starts again at 0) is shifted to start one time step after
    it. Segments whose times already continue (LAMMPS dumps with absolute step numbers)
    are left as they are. A frame repeated at a boundary (a restart writing the same step
    twice) is kept.

    Parameters
    ----------
    segments : sequence of Trajectory
        Open segments, in order; closed together with this object.

    Raises
    ------
    UserInputError
        When a segment's atoms (symbols, order) differ from the first segment's.
    """

    def __init__(self, segments: Sequence[Trajectory]):
        self._segments = list(segments)
        first = self._segments[0]
        for seg in self._segments[1:]:
            if seg.symbols != first.symbols:
                raise UserInputError(
                    f"segment {', '.join(seg.info.sources)} has {seg.n_atoms} atoms "
                    f"({seg.formula}) but {first.info.sources[0]} has {first.n_atoms} "
                    f"({first.formula}) in a different order or number; only consecutive "
                    "segments of one simulation can be joined")
        self.symbols = first.symbols
        self.masses = first.masses
        self._update_layout()
        steps = {seg.info.timestep_fs for seg in self._segments}
        self.info = TrajectoryInfo(
            format=first.info.format,
            sources=tuple(s for seg in self._segments for s in seg.info.sources),
            timestep_fs=steps.pop() if len(steps) == 1 else None,
            has_velocities=all(s.info.has_velocities for s in self._segments),
            has_energies=all(s.info.has_energies for s in self._segments),
            has_forces=all(s.info.has_forces for s in self._segments),
            extra={**first.info.extra, "segment_starts": self._starts[:-1].tolist()})

    def _update_layout(self) -> None:
        lengths = [seg.n_frames for seg in self._segments]
        self._starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self._offsets = np.zeros(len(self._segments))
        last, dt_prev = None, None
        for k, seg in enumerate(self._segments):
            if seg.n_frames == 0:
                continue
            first_t = float(seg.times_fs([0])[0])
            if last is not None and first_t <= last:
                dt = dt_prev or seg.info.timestep_fs or 1.0
                self._offsets[k] = last + dt - first_t
            times = seg.times_fs([-2, -1] if seg.n_frames > 1 else [-1]) + self._offsets[k]
            last = float(times[-1])
            dt_prev = seg.info.timestep_fs or (float(times[1] - times[0]) if len(times) > 1 else None)

    @property
    def segments(self) -> tuple[Trajectory, ...]:
        """The segment readers, in order."""
        return tuple(self._segments)

    def _n_frames(self) -> int:
        return int(self._starts[-1])

    def _locate(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        seg = np.searchsorted(self._starts, indices, side="right") - 1
        return seg, indices - self._starts[seg]

    def _read_frame(self, index: int) -> Frame:
        (k,), (local,) = self._locate(np.array([index]))
        frame = self._segments[k]._read_frame(int(local))
        return dataclasses.replace(frame, index=index, time_fs=frame.time_fs + self._offsets[k])

    def _gather(self, indices: np.ndarray, method: str, shape: tuple[int, ...]) -> np.ndarray:
        seg, local = self._locate(np.asarray(indices, dtype=np.int64))
        out = np.empty((len(indices), *shape))
        for k in np.unique(seg):
            mask = seg == k
            out[mask] = getattr(self._segments[k], method)(local[mask])
        return out

    def _read_positions(self, indices: np.ndarray) -> np.ndarray:
        return self._gather(indices, "_read_positions", (self.n_atoms, 3))

    def _read_cells(self, indices: np.ndarray) -> np.ndarray:
        return self._gather(indices, "_read_cells", (3, 3))

    def _read_times_fs(self, indices: np.ndarray) -> np.ndarray:
        seg, _ = self._locate(np.asarray(indices, dtype=np.int64))
        return self._gather(indices, "_read_times_fs", ()) + self._offsets[seg]

    def refresh(self) -> int:
        """Refresh every segment (only the last can usually grow); return ``n_frames``."""
        for seg in self._segments:
            seg.refresh()
        self._update_layout()
        return self.n_frames

    def close(self) -> None:
        """Close all segments."""
        for seg in self._segments:
            seg.close()


class TextBuffer:
    """Bytes of a text trajectory with the line operations the text readers index with.

    Plain files are memory-mapped (nothing is read until used); ``.gz`` files are
    decompressed into memory once. A ``.gz`` stream that ends early (a copy cut short)
    gives the bytes it has, with a warning, so the reader can drop the incomplete frame.

    Parameters
    ----------
    path : Path
        The file.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._mmap = None
        if self.path.name.lower().endswith(".gz"):
            self.data = _gunzip(self.path)
        elif self.path.stat().st_size == 0:
            self.data = b""
        else:
            with open(self.path, "rb") as fh:
                self._mmap = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            self.data = self._mmap
        self.size = len(self.data)
        self.u8 = np.frombuffer(self.data, dtype=np.uint8) if self.size else np.zeros(0, np.uint8)

    def line(self, pos: int) -> tuple[bytes, int]:
        """The line starting at byte ``pos`` (without newline) and where the next starts."""
        end = self.data.find(b"\n", pos)
        end = self.size if end < 0 else end
        return bytes(self.data[pos:end]), min(end + 1, self.size)

    def skip_lines(self, pos: int, n: int, hint: int = 4096) -> int | None:
        """Byte offset just after ``n`` lines from ``pos``, or ``None`` if the file has fewer.

        A last line without a newline counts as a line. ``hint`` is the expected size of
        the ``n`` lines in bytes (the scan grows from there).
        """
        if n <= 0:
            return pos
        found, p, size = 0, pos, max(int(hint), 256)
        while p < self.size:
            nl = np.flatnonzero(self.u8[p:p + size] == 10)
            if found + len(nl) >= n:
                return int(p + nl[n - found - 1] + 1)
            found += len(nl)
            p, size = p + size, size * 2
        tail_unterminated = self.size > pos and self.u8[-1] != 10
        return self.size if tail_unterminated and found == n - 1 else None

    def line_number(self, pos: int) -> int:
        """1-based number of the line containing byte ``pos``."""
        return int(np.count_nonzero(self.u8[:pos] == 10)) + 1

    def rest_is_blank(self, pos: int) -> bool:
        """True when only whitespace follows byte ``pos``."""
        return not bytes(self.data[pos:]).strip()

    def last_line_cut(self) -> bool:
        """True when the file ends without a newline in a line shorter than the one before
        it: the signature of a file cut mid-line."""
        if not self.size or self.u8[-1] == 10:
            return False
        start = self.data.rfind(b"\n") + 1
        prev = self.data.rfind(b"\n", 0, max(start - 1, 0)) + 1
        return start > 0 and (self.size - start) < (start - 1 - prev)

    def error(self, pos: int, message: str) -> TrajectoryFormatError:
        """A :class:`TrajectoryFormatError` naming the file and the line of byte ``pos``."""
        return TrajectoryFormatError(f"{self.path}, line {self.line_number(pos)}: {message}")

    def close(self) -> None:
        """Release the memory map (idempotent)."""
        self.u8 = np.zeros(0, np.uint8)
        if self._mmap is not None:
            self.data, mapped, self._mmap = b"", self._mmap, None
            try:
                mapped.close()
            except BufferError:  # a view is still alive somewhere: the GC unmaps it later
                pass


def _gunzip(path: Path) -> bytes:
    raw = path.read_bytes()
    try:
        return gzip.decompress(raw)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            data = decomp.decompress(raw)
        except zlib.error:
            raise TrajectoryFormatError(f"{path} is not a valid gzip file ({exc}); "
                                        "decompress it or check the download") from exc
        warnings.warn(f"{path}: the gzip stream ends early ({exc}); reading the "
                      f"{len(data)} bytes it holds", stacklevel=3)
        return data


def check_positive(**times_fs: float | None) -> None:
    """Raise :class:`UserInputError` unless each given time (fs) is None or positive."""
    for name, value in times_fs.items():
        if value is not None and not value > 0:
            raise UserInputError(f"{name} must be a positive time in fs, got {value!r}")


def warn_dropped_frame(path: Path, frame: int, why: str) -> None:
    """Warn that the incomplete last frame of ``path`` is not read."""
    warnings.warn(f"{path}: frame {frame} (the last) is incomplete ({why}) and is not read; "
                  "the frames before it are used", stacklevel=3)
