"""Import existing DFT/AIMD data as labelled configurations.

Formats are a registry (:data:`IMPORTERS`) of plain :class:`ImporterSpec` records, looked
up by name or detected from the file name, then the first bytes (a folder: DeePMD).

* ``vasp-out`` and ``vasp-xml``: VASP OUTCAR and vasprun.xml, every ionic step, through
  :func:`ase.io.read`. VASP prints stress in kB with the opposite sign to ASE (positive
  when compressed); ASE converts, ``stress_ASE = -0.1 GPa * stress_kB``. The default
  energy is the free energy (``TOTEN``, ``e_fr_energy``), the one whose derivatives are
  the forces VASP prints; ``energy_key="energy"`` takes the sigma -> 0 energy instead.
* ``extxyz``: extended XYZ [1]_. Labels sit under user-chosen keys or are detected among
  common names (``REF_energy``, ``energy``, ...). A key whose name contains ``virial``
  holds a virial W in eV (3x3, 9 or Voigt 6 numbers), converted as
  ``stress = -W / V`` [1]_ [2]_.
* ``deepmd``: DeePMD-kit npy systems [2]_: ``type.raw``, ``type_map.raw``,
  ``set.*/{coord,box,energy,force,virial}.npy`` (Å, eV, eV/Å, virial in eV); a folder
  holding several systems imports them all.
* ``ase-db``: ASE databases [3]_, rows with a calculator; key-value pairs and row data
  may hold labels too.

Every imported configuration carries a :class:`~ase.calculators.singlepoint.SinglePointCalculator`
(energy eV, forces eV/Å (N, 3), stress eV/Å^3 Voigt with ASE's sign) and
``info["provenance"]``. Unusable frames are skipped with a reason (:class:`SkippedItem`);
a source with nothing usable, or broken as a whole, raises ``UserInputError``.

References
----------
.. [1] Extended XYZ specification (the libAtoms/extxyz repository on GitHub) (``virial`` is
   ``-stress * volume``, eV).
.. [2] DeePMD-kit data format, https://docs.deepmodeling.com/projects/deepmd/en/latest/data/system.html
.. [3] ASE database, https://wiki.fysik.dtu.dk/ase/ase/db/db.html
"""

from __future__ import annotations

import fnmatch
import functools
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms

from ssestudio.core.errors import UserInputError

#: A frame selection: an int, a slice or ASE's string form (``":"``, ``"::10"``, ``"-1"``).
Index = int | slice | str

GENERIC_ENERGY_KEYS = ("REF_energy", "dft_energy", "DFT_energy", "energy", "free_energy",
                       "total_energy", "TotEnergy")
GENERIC_FORCES_KEYS = ("REF_forces", "dft_forces", "DFT_forces", "forces", "force", "TotForce")
GENERIC_STRESS_KEYS = ("REF_stress", "dft_stress", "DFT_stress", "stress", "REF_virial",
                       "REF_virials", "dft_virial", "DFT_virial", "virial", "virials")


@dataclass(frozen=True)
class SkippedItem:
    """A frame that was read but not imported: its ``frame`` index in ``source`` (file,
    DeePMD system folder; database: row position), a short ``reason`` category (e.g.
    ``"missing forces"``) and a ``detail`` saying what is wrong and how to fix it."""

    frame: int
    reason: str
    detail: str
    source: str


@dataclass(frozen=True)
class ImportReport:
    """Result of :func:`import_configurations`: the imported ``configurations`` (labels
    and ``info["provenance"]``), the ``skipped`` frames with reasons, the ``source`` path,
    the ``format`` name and ``label_keys``, ``{"energy": key, "forces": key, "stress": key}``
    telling where each label was read (``None`` where the source has none)."""

    configurations: tuple[Atoms, ...]
    skipped: tuple[SkippedItem, ...]
    source: str
    format: str
    label_keys: Mapping[str, str | None] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Counts as a JSON-ready dict: ``imported``, ``skipped``, ``reasons`` (count per
        reason), ``source``, ``format`` and ``label_keys``."""
        return {"source": self.source, "format": self.format,
                "imported": len(self.configurations), "skipped": len(self.skipped),
                "reasons": dict(Counter(item.reason for item in self.skipped)),
                "label_keys": dict(self.label_keys)}


@dataclass(frozen=True)
class RawFrame:
    """One frame as read: ``atoms``, every quantity found for it by name in ``labels``
    (calculator results, ``info``, ``arrays``, database key-value pairs and data), and
    where it came from (``source`` file or DeePMD system, ``frame`` index there)."""

    atoms: Atoms
    labels: dict[str, Any]
    source: str
    frame: int


@dataclass(frozen=True)
class ImporterSpec:
    """One registered import format: its ``name`` (``format=``), a ``description``,
    ``read(path, index) -> list[RawFrame]`` (UserInputError for broken input), whether it
    reads a ``folder``, lower-case glob ``patterns`` on the file name, ``sniff(path, head)
    -> bool`` on the first 4 KiB (``b""`` for a folder), and the label names tried in
    order when the user gives no key (``energy_keys``, ``forces_keys``, ``stress_keys``)."""

    name: str
    read: Callable[[Path, Index], list[RawFrame]]
    description: str
    folder: bool = False
    patterns: tuple[str, ...] = ()
    sniff: Callable[[Path, bytes], bool] | None = None
    energy_keys: tuple[str, ...] = GENERIC_ENERGY_KEYS
    forces_keys: tuple[str, ...] = GENERIC_FORCES_KEYS
    stress_keys: tuple[str, ...] = GENERIC_STRESS_KEYS


class _SkipFrame(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _select(n_frames: int, index: Index, source: Path) -> list[int]:
    """Frame indices chosen by ``index`` among ``n_frames``."""
    from ase.io.formats import string2index

    if isinstance(index, str):
        try:
            index = string2index(index)  # names other than numbers come back as strings
        except ValueError:
            pass
    if isinstance(index, slice):
        return list(range(n_frames)[index])
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        if not -n_frames <= index < n_frames:
            raise UserInputError(f"index {index} is out of range: {source} has {n_frames} "
                                 "frame(s)")
        return [int(index) % n_frames]
    raise UserInputError(f"index {index!r} is not a frame selection; use an int, a slice or a "
                         "string such as ':', '::10' or '-1'")


def _labels_of(atoms: Atoms, *extra: Mapping[str, Any]) -> dict[str, Any]:
    labels = {k: v for k, v in atoms.arrays.items() if k not in ("numbers", "positions")}
    for mapping in (atoms.info, *extra, getattr(atoms.calc, "results", {})):
        labels.update(mapping)
    return labels


def _read_with_ase(path: Path, index: Index, *, ase_format: str) -> list[RawFrame]:
    """Frames of a file ASE reads (OUTCAR, vasprun.xml, extended XYZ)."""
    import ase.io

    try:
        images = ase.io.read(path, format=ase_format, index=":")
    except Exception as exc:  # ASE raises many exception types for broken files
        raise UserInputError(f"cannot read {path} as {ase_format}: {type(exc).__name__}: {exc}. "
                             "Check that the file is complete and in this format, or pass "
                             "another format=") from exc
    return [RawFrame(images[i], _labels_of(images[i]), str(path), i)
            for i in _select(len(images), index, path)]


def _read_ase_db(path: Path, index: Index) -> list[RawFrame]:
    """Rows of an ASE database in id order; ``frame`` is the position in that order."""
    import ase.db

    try:
        db = ase.db.connect(path, type="json" if path.suffix.lower() == ".json" else "db",
                            create_indices=False)
        rows = list(db.select())
    except Exception as exc:  # sqlite3 and JSON errors for a file that is no database
        raise UserInputError(f"cannot read {path} as an ASE database: {type(exc).__name__}: "
                             f"{exc}. Check the file, or pass another format=") from exc
    frames = []
    for i in _select(len(rows), index, path):
        row = rows[i]
        atoms = row.toatoms()
        atoms.info.update(row.key_value_pairs)
        frames.append(RawFrame(atoms, _labels_of(atoms, row.get("data", {})), str(path), i))
    return frames


def _deepmd_symbols(system: Path) -> list[str]:
    """Chemical symbols of a DeePMD system from ``type.raw`` and ``type_map.raw``."""
    from ase.data import chemical_symbols

    map_file = system / "type_map.raw"
    try:
        types = np.loadtxt(system / "type.raw", dtype=int, ndmin=1)
        type_map = map_file.read_text().split()
    except (OSError, ValueError) as exc:
        raise UserInputError(f"DeePMD system {system} needs type.raw (one integer type per "
                             "atom) and type_map.raw (the element of each type, one per line): "
                             f"{exc}") from exc
    if types.size == 0 or any(s not in chemical_symbols[1:] for s in type_map) \
            or types.min() < 0 or types.max() >= len(type_map):
        raise UserInputError(f"DeePMD system {system}: type.raw ({types.size} atoms, types "
                             f"{sorted(set(types.tolist()))}) does not match type_map.raw "
                             f"{type_map}; list one element symbol per type index")
    return [type_map[t] for t in types]


def _load_set(folder: Path, n_atoms: int, nopbc: bool) -> dict[str, np.ndarray]:
    """The arrays of one ``set.*`` folder, shape-checked, per frame: coord and force
    (N, 3), box and virial (3, 3), energy scalar."""
    if (folder / "real_atom_types.npy").exists():
        raise UserInputError(f"{folder} is a DeePMD mixed-type set, which is not supported; "
                             "convert it to one system per atom order (e.g. with dpdata)")
    shapes = {"coord": (n_atoms, 3), "box": (3, 3), "energy": (), "force": (n_atoms, 3),
              "virial": (3, 3)}
    out: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        width, file = int(np.prod(shape)), folder / f"{name}.npy"
        if not file.is_file():
            continue
        try:
            array = np.asarray(np.load(file, allow_pickle=False), dtype=float)
        except (OSError, ValueError) as exc:
            raise UserInputError(f"cannot read {file}: {exc}") from exc
        if array.ndim == 0 or array.size == 0 or array.size != len(array) * width:
            raise UserInputError(f"{file} has shape {array.shape}; expected (n_frames, {width}) "
                                 f"for the {n_atoms} atoms of type.raw")
        out[name] = array.reshape((len(array),) + shape)
    if "coord" not in out or ("box" not in out and not nopbc):
        raise UserInputError(f"{folder} lacks coord.npy or box.npy; every DeePMD set needs both "
                             "(box may be left out only with a 'nopbc' file in the system)")
    counts = {name: len(a) for name, a in out.items()}
    if len(set(counts.values())) > 1:
        raise UserInputError(f"{folder}: arrays hold different numbers of frames {counts}; "
                             "every .npy file of a set needs one row per frame")
    return out


_DEEPMD_LABELS = (("energy", "energy"), ("force", "forces"), ("virial", "virial"))


def _deepmd_frames(system: Path, index: Index) -> list[RawFrame]:
    symbols = _deepmd_symbols(system)
    nopbc = (system / "nopbc").exists()
    sets = sorted(p for p in system.glob("set.*") if p.is_dir())
    if not sets:
        raise UserInputError(f"DeePMD system {system} has no set.* folder with coord.npy")
    flat = [(arrays, j) for arrays in (_load_set(s, len(symbols), nopbc) for s in sets)
            for j in range(len(arrays["coord"]))]
    frames = []
    for i in _select(len(flat), index, system):
        arrays, j = flat[i]
        atoms = Atoms(symbols, positions=arrays["coord"][j], pbc=not nopbc,
                      cell=None if nopbc else arrays["box"][j])
        labels = {label: arrays[name][j] for name, label in _DEEPMD_LABELS if name in arrays}
        frames.append(RawFrame(atoms, labels, str(system), i))
    return frames


def _read_deepmd(path: Path, index: Index) -> list[RawFrame]:
    """Frames of one DeePMD system folder, or of every system below ``path``."""
    systems = [path] if (path / "type.raw").is_file() else sorted(
        {p.parent for p in path.rglob("type.raw")})
    if not systems:
        raise UserInputError(f"{path} holds no DeePMD system (a folder with type.raw and set.*)")
    return [frame for system in systems for frame in _deepmd_frames(system, index)]


def _sniff_extxyz(path: Path, head: bytes) -> bool:
    lines = head.split(b"\n", 2)
    return len(lines) > 2 and lines[0].strip().isdigit() and (
        b"Properties=" in lines[1] or b"Lattice=" in lines[1])


_VASP_KEYS = {"energy_keys": ("free_energy", "energy"), "forces_keys": ("forces",),
              "stress_keys": ("stress",)}

#: Import formats by name.
IMPORTERS: dict[str, ImporterSpec] = {spec.name: spec for spec in (
    ImporterSpec("vasp-out", functools.partial(_read_with_ase, ase_format="vasp-out"),
                 "VASP OUTCAR, every ionic step", patterns=("outcar*", "*.outcar"),
                 sniff=lambda p, head: head.lstrip().startswith(b"vasp."), **_VASP_KEYS),
    ImporterSpec("vasp-xml", functools.partial(_read_with_ase, ase_format="vasp-xml"),
                 "VASP vasprun.xml, every ionic step", patterns=("vasprun*.xml",),
                 sniff=lambda p, head: b"<modeling>" in head, **_VASP_KEYS),
    ImporterSpec("extxyz", functools.partial(_read_with_ase, ase_format="extxyz"),
                 "extended XYZ with labels in info/arrays", patterns=("*.xyz", "*.extxyz"),
                 sniff=_sniff_extxyz),
    ImporterSpec("deepmd", _read_deepmd, "DeePMD-kit npy system folder(s)", folder=True,
                 sniff=lambda p, head: next(p.rglob("type.raw"), None) is not None,
                 energy_keys=("energy",), forces_keys=("forces",), stress_keys=("virial",)),
    ImporterSpec("ase-db", _read_ase_db, "ASE database (rows with a calculator)",
                 patterns=("*.db",), sniff=lambda p, head: head.startswith(b"SQLite format 3")),
)}


def detect_format(path: str | Path) -> str:
    """Registry name of the format of ``path``: from its name, else its first bytes.

    Raises
    ------
    UserInputError
        When no registered format claims the path.
    """
    path = Path(path)
    specs = [s for s in IMPORTERS.values() if s.folder == path.is_dir()]
    for spec in specs:
        if any(fnmatch.fnmatch(path.name.lower(), pattern) for pattern in spec.patterns):
            return spec.name
    head = b""
    if path.is_file():
        with open(path, "rb") as handle:
            head = handle.read(4096)
    for spec in specs:
        if spec.sniff is not None and spec.sniff(path, head):
            return spec.name
    raise UserInputError(f"cannot tell the format of {path} from its name or content; pass "
                         f"format= one of: {', '.join(IMPORTERS)}")


def _importer(path: Path, format: str | None) -> ImporterSpec:
    if not path.exists():
        raise UserInputError(f"{path} does not exist; check the path")
    if format is None:
        format = detect_format(path)
    if format not in IMPORTERS:
        raise UserInputError(f"unknown import format {format!r}; known formats: "
                             f"{', '.join(IMPORTERS)}")
    spec = IMPORTERS[format]
    if spec.folder != path.is_dir():
        raise UserInputError(f"format {format!r} reads a {'folder' if spec.folder else 'file'}"
                             f" but {path} is not one")
    if path.is_file() and path.stat().st_size == 0:
        raise UserInputError(f"{path} is empty; it holds no configurations")
    return spec


def _choose_key(frames: list[RawFrame], given: str | None, candidates: tuple[str, ...]
                ) -> str | None:
    """``given``, else the first candidate present in any frame, else None."""
    if given is not None:
        if not isinstance(given, str) or not given:
            raise UserInputError(f"label keys must be non-empty strings, got {given!r}")
        return given
    return next((key for key in candidates if any(key in f.labels for f in frames)), None)


def _floats(value: Any, *, what: str, key: str) -> np.ndarray:
    """``value`` as a finite float array; _SkipFrame when it is not numeric or finite."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise _SkipFrame(f"bad {what}", f"{what} {key!r} = {value!r} is not numeric") from None
    if not np.isfinite(array).all():
        raise _SkipFrame(f"non-finite {what}", f"{what} {key!r} contains NaN or inf (a failed "
                         "calculation?); fix or drop the frame")
    return array


def _voigt_stress(value: Any, *, key: str, atoms: Atoms) -> np.ndarray:
    """ASE Voigt stress (eV/Å^3) from a stress, or a virial (eV) when ``key`` says so."""
    from ase.stress import full_3x3_to_voigt_6_stress, voigt_6_to_full_3x3_stress

    array = _floats(value, what="stress", key=key)
    if array.size not in (6, 9):
        raise _SkipFrame("bad stress", f"{key!r} has shape {array.shape}; give 6 (Voigt xx yy "
                         "zz yz xz xy), 9 or 3x3 numbers")
    full = voigt_6_to_full_3x3_stress(array.ravel()) if array.size == 6 else array.reshape(3, 3)
    if "virial" in key.lower():
        volume = abs(float(np.linalg.det(atoms.cell.array)))
        if volume <= 0.0:
            raise _SkipFrame("zero cell volume", f"{key!r} is a virial but the cell has no "
                             "volume, so no stress can be derived; give the cell")
        full = -full / volume
    return full_3x3_to_voigt_6_stress(full)


def _key_text(key: str | None) -> str:
    return "any of the usual keys" if key is None else f"key {key!r}"


def _checked_labels(raw: RawFrame, keys: Mapping[str, str | None], require_forces: bool
                    ) -> dict[str, Any]:
    """``energy``, ``forces``, ``stress`` of a frame in ASE units; _SkipFrame if unusable."""
    labels, n = raw.labels, len(raw.atoms)
    _floats(raw.atoms.positions, what="positions", key="positions")
    ekey, fkey, skey = keys["energy"], keys["forces"], keys["stress"]
    if ekey is None or labels.get(ekey) is None:
        raise _SkipFrame("missing energy", f"no energy under {_key_text(ekey)}; keys present: "
                         f"{sorted(labels)}; pass energy_key= naming the energy")
    energy = _floats(labels[ekey], what="energy", key=ekey)
    if energy.size != 1:
        raise _SkipFrame("bad energy", f"energy {ekey!r} has shape {energy.shape}; expected "
                         "one number")
    results: dict[str, Any] = {"energy": float(energy.ravel()[0])}
    if fkey is not None and labels.get(fkey) is not None:
        results["forces"] = _floats(labels[fkey], what="forces", key=fkey)
        if results["forces"].shape != (n, 3):
            raise _SkipFrame("forces shape mismatch", f"forces {fkey!r} have shape "
                             f"{results['forces'].shape} but the configuration has {n} atoms:"
                             f" expected ({n}, 3)")
    elif require_forces:
        raise _SkipFrame("missing forces", f"no forces under {_key_text(fkey)}; keys present: "
                         f"{sorted(labels)}; pass forces_key=, or require_forces=False")
    if skey is not None and labels.get(skey) is not None:
        results["stress"] = _voigt_stress(labels[skey], key=skey, atoms=raw.atoms)
    return results


def _configuration(raw: RawFrame, results: dict[str, Any], keys: Mapping[str, str | None],
                   level: str) -> Atoms:
    """Copy of the frame with a SinglePointCalculator and provenance; label entries removed."""
    from ase.calculators.singlepoint import SinglePointCalculator

    atoms = raw.atoms.copy()  # without the calculator
    for key in filter(None, keys.values()):
        atoms.info.pop(key, None)
        atoms.arrays.pop(key, None)
    previous = atoms.info.get("provenance")
    provenance = dict(previous) if isinstance(previous, Mapping) else {}
    provenance.update(source=raw.source, frame=raw.frame, level=level, group=raw.source)
    atoms.info["provenance"] = provenance
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def _nothing_imported(path: Path, spec: ImporterSpec, skipped: list[SkippedItem]) -> str:
    if not skipped:
        return f"{path} ({spec.name}) holds no frames in the selected index range"
    counts = ", ".join(f"{n} {reason}" for reason, n in Counter(s.reason for s in skipped).items())
    first = skipped[0]
    return (f"nothing could be imported from {path} ({spec.name}): all {len(skipped)} frame(s) "
            f"were skipped ({counts}); first, frame {first.frame} of {first.source}: "
            f"{first.detail}")


def import_configurations(path: str | Path, *, format: str | None = None,
                          energy_key: str | None = None, forces_key: str | None = None,
                          stress_key: str | None = None, level: str = "DFT", index: Index = ":",
                          require_forces: bool = True) -> ImportReport:
    """Read labelled configurations from DFT/AIMD output or a training-data file.

    Parameters
    ----------
    path : str or Path
        File (OUTCAR, vasprun.xml, ``.xyz``, ``.db``) or folder (DeePMD system(s)).
    format : str, optional
        A name from :data:`IMPORTERS`; detected from the name or content when omitted.
    energy_key, forces_key, stress_key : str, optional
        Where the labels are: keys of the calculator results, ``info`` or ``arrays``
        (database: key-value pairs, data). Detected when omitted (see
        :class:`ImporterSpec`). A ``stress_key`` containing ``virial`` is read as a virial
        in eV and converted, ``stress = -virial / V``.
    level : str
        Level of theory recorded in the provenance, e.g. ``"DFT"`` or ``"PBE"``.
    index : int, slice or str
        Frames to take from each file or DeePMD system, e.g. ``"::10"`` for every tenth.
    require_forces : bool
        Skip frames without forces (the default); when False they are imported with
        energy (and stress) only.

    Returns
    -------
    ImportReport
        The configurations (calculator labels: energy eV, forces eV/Å (N, 3), stress
        eV/Å^3 Voigt, ASE sign) and the skipped frames with reasons. Provenance:
        ``{"source", "frame", "level", "group"}``, ``source`` and ``group`` being the file
        or DeePMD system folder; other fields of a provenance already in the file are kept.

    Raises
    ------
    UserInputError
        Missing or empty path, unknown format, a broken file or DeePMD set (shapes that
        disagree), or no frame that can be imported.
    """
    path = Path(path)
    spec = _importer(path, format)
    if not isinstance(level, str) or not level:
        raise UserInputError(f"level must be a non-empty string such as 'DFT', got {level!r}")
    frames = spec.read(path, index)
    keys = {"energy": _choose_key(frames, energy_key, spec.energy_keys),
            "forces": _choose_key(frames, forces_key, spec.forces_keys),
            "stress": _choose_key(frames, stress_key, spec.stress_keys)}
    configurations: list[Atoms] = []
    skipped: list[SkippedItem] = []
    for raw in frames:
        try:
            results = _checked_labels(raw, keys, bool(require_forces))
        except _SkipFrame as skip:
            skipped.append(SkippedItem(raw.frame, skip.reason, skip.detail, raw.source))
            continue
        configurations.append(_configuration(raw, results, keys, level))
    if not configurations:
        raise UserInputError(_nothing_imported(path, spec, skipped))
    return ImportReport(tuple(configurations), tuple(skipped), str(path), spec.name, keys)
