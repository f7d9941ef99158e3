"""Export labelled configurations as training data: extended XYZ and DeePMD npy.

Exporters are a registry (:data:`EXPORTERS`) of writer functions looked up by name by
:func:`export_configurations`. Labels are read from each configuration's calculator
results (ASE units and signs: energy eV, forces eV/Å, stress eV/Å^3 Voigt with ASE's sign,
negative when compressed).

* ``extxyz`` [1]_ stores the labels as plain ``info``/``arrays`` entries under the given
  keys (``REF_energy``, ``REF_forces``, ``REF_stress`` by default) rather than as a
  calculator, as MACE (``--energy_key REF_energy --forces_key REF_forces --stress_key
  REF_stress``) [2]_ and NequIP (``key_mapping``) expect. ``REF_stress`` is written as 6
  Voigt numbers (xx yy zz yz xz xy) in eV/Å^3 with ASE's sign, the form and sign MACE's
  ``voigt_to_matrix`` reads; an optional virial is ``W = -stress * V`` (eV, 9 numbers,
  row-major). Numbers are written with full precision (``repr``), so a round trip is exact.
* ``deepmd`` [3]_ writes one system folder per atom sequence (composition and order) with
  ``type.raw``, ``type_map.raw`` and ``set.NNN/{coord,box,energy,force,virial}.npy`` in
  Å, eV, eV/Å and eV (``virial = -stress * V``); a ``nopbc`` file marks a system without
  periodic boundaries.

Writes are atomic: everything goes to a temporary file or folder next to the target,
renamed into place only when complete, so a failed export leaves nothing behind.

References
----------
.. [1] Extended XYZ specification (the libAtoms/extxyz repository on GitHub)
.. [2] MACE, training data: https://mace-docs.readthedocs.io/en/latest/guide/training.html
.. [3] DeePMD-kit data format, https://docs.deepmodeling.com/projects/deepmd/en/latest/data/system.html
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from ase import Atoms

from ssestudio.core.errors import UserInputError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: ``info`` entries the extxyz writer never copies: they have meanings of their own.
_RESERVED = frozenset({"Lattice", "Properties", "pbc", "energy", "free_energy", "forces",
                       "stress", "virial", "config_type", "provenance"})


def _configurations(configurations: Iterable[Atoms]) -> list[Atoms]:
    configs = list(configurations)
    if not configs:
        raise UserInputError("no configurations to export; pass a non-empty list of Atoms")
    for i, atoms in enumerate(configs):
        if not isinstance(atoms, Atoms):
            raise UserInputError(f"configuration {i} is a {type(atoms).__name__}, not an "
                                 "ase.Atoms")
    return configs


def _labels(atoms: Atoms, i: int) -> tuple[float | None, np.ndarray | None, np.ndarray | None]:
    """Energy (eV), forces (eV/Å, (N, 3)) and Voigt stress (eV/Å^3) of a configuration."""
    from ase.stress import full_3x3_to_voigt_6_stress

    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    energy = results.get("energy")
    forces, stress = results.get("forces"), results.get("stress")
    if forces is not None:
        forces = np.asarray(forces, dtype=float)
        if forces.shape != (len(atoms), 3):
            raise UserInputError(f"configuration {i}: forces have shape {forces.shape} but "
                                 f"it has {len(atoms)} atoms; expected ({len(atoms)}, 3)")
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        if stress.shape not in ((6,), (3, 3)):
            raise UserInputError(f"configuration {i}: stress has shape {stress.shape}; "
                                 "expected Voigt (6,) or (3, 3)")
        stress = full_3x3_to_voigt_6_stress(stress) if stress.shape == (3, 3) else stress
    return (None if energy is None else float(energy)), forces, stress


def _virial(stress: np.ndarray, atoms: Atoms, i: int) -> np.ndarray:
    """Virial ``W = -stress * V`` (eV, 3x3) from an ASE Voigt stress."""
    from ase.stress import voigt_6_to_full_3x3_stress

    volume = abs(float(np.linalg.det(atoms.cell.array)))
    if volume <= 0.0:
        raise UserInputError(f"configuration {i} has a stress but a cell without volume; a "
                             "virial needs the cell")
    return -voigt_6_to_full_3x3_stress(stress) * volume


def _check_target(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UserInputError(f"{path} already exists; choose another path or pass "
                             "overwrite=True")
    if not path.parent.is_dir():
        raise UserInputError(f"folder {path.parent} does not exist; create it first")


@contextlib.contextmanager
def _atomic_file(path: Path, *, overwrite: bool) -> Iterator[IO[str]]:
    """A text handle on a temporary file renamed to ``path`` when the block succeeds."""
    _check_target(path, overwrite)
    if path.is_dir():
        raise UserInputError(f"{path} is a folder; give a file name such as train.xyz")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _atomic_folder(path: Path, *, overwrite: bool) -> Iterator[Path]:
    """A temporary folder that replaces ``path`` when the block succeeds."""
    _check_target(path, overwrite)
    if path.exists() and not path.is_dir():
        raise UserInputError(f"{path} is a file; give a folder path")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            old.rmdir()
            path.rename(old)
            tmp.rename(path)
            shutil.rmtree(old)
        else:
            tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _check_keys(**keys: str | None) -> None:
    given = [k for k in keys.values() if k is not None]
    for name, key in keys.items():
        if key is None and name in ("stress_key", "virial_key"):
            continue
        if not isinstance(key, str) or not _KEY.match(key) or key in ("species", "pos"):
            raise UserInputError(f"{name}={key!r} is not a usable extxyz key; use letters, "
                                 "digits and underscores, e.g. 'REF_energy'")
    if len(set(given)) != len(given):
        raise UserInputError(f"label keys must differ from each other, got {keys}")


def _config_type(atoms: Atoms) -> str:
    """``info["config_type"]``, else the last generator of the provenance, else Default."""
    if atoms.info.get("config_type") is not None:
        return str(atoms.info["config_type"])
    generators = (atoms.info.get("provenance") or {}).get("generators") or []
    if generators and isinstance(generators[-1], dict) and generators[-1].get("name"):
        return str(generators[-1]["name"])
    return "Default"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _extxyz_info(atoms: Atoms, i: int, keys: dict[str, str | None], energy: float | None,
                 stress: np.ndarray | None) -> dict[str, Any]:
    """The ``key=value`` entries of a frame's comment line (labels, config_type, info)."""
    reserved = _RESERVED | set(keys.values())
    info: dict[str, Any] = {k: v for k, v in atoms.info.items()
                            if k not in reserved and _KEY.match(k)
                            and isinstance(v, (str, bool, int, float, np.integer, np.floating))}
    info["config_type"] = _config_type(atoms)
    if energy is not None:
        info[keys["energy"]] = energy
    if stress is not None and keys["stress"] is not None:
        info[keys["stress"]] = np.asarray(stress, dtype=float)
    if stress is not None and keys["virial"] is not None:
        info[keys["virial"]] = _virial(stress, atoms, i).ravel()
    if isinstance(atoms.info.get("provenance"), dict):
        info["provenance"] = "_JSON " + json.dumps(atoms.info["provenance"], default=_json_default)
    return info


def _extxyz_frame(atoms: Atoms, i: int, keys: dict[str, str | None]) -> str:
    """One frame of extended XYZ text, numbers at full precision."""
    from ase.io.extxyz import key_val_dict_to_str

    energy, forces, stress = _labels(atoms, i)
    properties = "species:S:1:pos:R:3" + (f":{keys['forces']}:R:3" if forces is not None else "")
    head = []
    if atoms.cell.array.any():
        head.append('Lattice="' + " ".join(repr(float(x)) for x in atoms.cell.array.ravel()) + '"')
    head.append(f"Properties={properties}")
    head.append(key_val_dict_to_str(_extxyz_info(atoms, i, keys, energy, stress)))
    head.append('pbc="' + " ".join("T" if p else "F" for p in atoms.pbc) + '"')
    columns = [atoms.positions] + ([forces] if forces is not None else [])
    rows = np.hstack(columns).tolist()
    lines = [" ".join([symbol, *map(repr, row)]) for symbol, row in zip(atoms.symbols, rows)]
    return "\n".join([str(len(atoms)), " ".join(h for h in head if h), *lines]) + "\n"


def write_extxyz(configurations: Iterable[Atoms], path: str | Path, *,
                 energy_key: str = "REF_energy", forces_key: str = "REF_forces",
                 stress_key: str | None = "REF_stress", virial_key: str | None = None,
                 overwrite: bool = False) -> Path:
    """Write configurations to an extended XYZ file for MACE or NequIP training.

    Parameters
    ----------
    configurations : iterable of Atoms
        Configurations; labels are taken from their calculator results. Unlabelled ones
        are written without labels (MACE gives their missing labels zero weight).
    path : str or Path
        Output file.
    energy_key : str
        ``info`` key of the energy, eV. Avoid ``"energy"``: ASE turns it into a calculator
        on reading, which MACE warns about.
    forces_key : str
        ``arrays`` key of the forces, eV/Å, (N, 3).
    stress_key : str or None
        ``info`` key of the stress, eV/Å^3, 6 Voigt numbers with ASE's sign; None: none.
    virial_key : str or None
        ``info`` key of the virial ``-stress * V``, eV, 9 numbers row-major (MACE's
        ``--virials_key``); None (default): not written.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path
        The file written. Each frame also gets ``config_type`` (``info["config_type"]``,
        else the last generator of the provenance, else ``"Default"``), the provenance
        (JSON) and the scalar and string ``info`` entries.

    Raises
    ------
    UserInputError
        No configurations, invalid or clashing keys, labels of the wrong shape, an
        existing file without ``overwrite``.
    """
    configs = _configurations(configurations)
    _check_keys(energy_key=energy_key, forces_key=forces_key, stress_key=stress_key,
                virial_key=virial_key)
    keys = {"energy": energy_key, "forces": forces_key, "stress": stress_key,
            "virial": virial_key}
    path = Path(path)
    with _atomic_file(path, overwrite=overwrite) as handle:
        for i, atoms in enumerate(configs):
            handle.write(_extxyz_frame(atoms, i, keys))
    return path


def _type_map(configs: Sequence[Atoms], type_map: Sequence[str] | None) -> list[str]:
    from ase.data import atomic_numbers

    present = {s for atoms in configs for s in atoms.get_chemical_symbols()}
    if type_map is None:
        return sorted(present, key=atomic_numbers.__getitem__)
    names = [str(s) for s in type_map]
    missing = sorted(present - set(names))
    if missing or len(set(names)) != len(names):
        raise UserInputError(f"type_map {names} must list each element once and include "
                             f"every element present; missing: {missing}")
    return names


def _system_arrays(configs: Sequence[Atoms], members: Sequence[int]) -> dict[str, np.ndarray]:
    """coord, box, energy, force and virial arrays of one DeePMD system (rows: frames)."""
    labels = [_labels(atoms, i) for atoms, i in zip(configs, members)]
    for (energy, forces, _), i in zip(labels, members):
        if energy is None or forces is None or not np.isfinite(energy):
            raise UserInputError(f"configuration {i} lacks a finite energy or forces; DeePMD "
                                 "needs both for every frame: label it or leave it out")
    periodic = {bool(atoms.pbc.any()) for atoms in configs}
    if len(periodic) > 1:
        raise UserInputError(f"configurations {list(members)} share an atom order but mix "
                             "periodic and non-periodic cells; export them separately")
    arrays = {"coord": np.array([a.positions.ravel() for a in configs]),
              "energy": np.array([e for e, _, _ in labels]),
              "force": np.array([f.ravel() for _, f, _ in labels])}
    if periodic == {True}:
        arrays["box"] = np.array([a.cell.array.ravel() for a in configs])
    with_stress = [s is not None for _, _, s in labels]
    if any(with_stress) and not all(with_stress):
        raise UserInputError(f"only some of configurations {list(members)} have a stress; a "
                             "DeePMD system needs it for all frames or none")
    if all(with_stress):
        arrays["virial"] = np.array([_virial(s, a, i).ravel()
                                     for (_, _, s), a, i in zip(labels, configs, members)])
    return arrays


def _write_system(folder: Path, symbols: Sequence[str], arrays: dict[str, np.ndarray],
                  type_map: Sequence[str], set_size: int) -> None:
    folder.mkdir()
    index = {s: k for k, s in enumerate(type_map)}
    (folder / "type.raw").write_text("".join(f"{index[s]}\n" for s in symbols))
    (folder / "type_map.raw").write_text("".join(f"{s}\n" for s in type_map))
    if "box" not in arrays:
        (folder / "nopbc").touch()
    n_frames = len(arrays["coord"])
    for k, start in enumerate(range(0, n_frames, set_size)):
        set_folder = folder / f"set.{k:03d}"
        set_folder.mkdir()
        for name, array in arrays.items():
            np.save(set_folder / f"{name}.npy", array[start:start + set_size])


def write_deepmd(configurations: Iterable[Atoms], folder: str | Path, *,
                 type_map: Sequence[str] | None = None, set_size: int = 5000,
                 overwrite: bool = False) -> Path:
    """Write configurations as DeePMD-kit npy systems, one per atom sequence.

    Parameters
    ----------
    configurations : iterable of Atoms
        Labelled configurations (energy and forces required; stress for all or none of a
        system's frames).
    folder : str or Path
        Output folder; holds one system folder per distinct sequence of chemical symbols,
        named by the Hill formula (``_1``, ``_2`` ... for other orders of one formula).
    type_map : sequence of str, optional
        Element of each type index, shared by all systems; default: the elements present,
        by atomic number.
    set_size : int
        Most frames per ``set.NNN`` folder.
    overwrite : bool
        Replace an existing folder (as a whole).

    Returns
    -------
    Path
        ``folder``.

    Raises
    ------
    UserInputError
        Missing labels, mixed stress or periodicity within a system, a bad type map or
        set size, an existing folder without ``overwrite``.
    """
    configs = _configurations(configurations)
    if isinstance(set_size, bool) or not isinstance(set_size, (int, np.integer)) or set_size < 1:
        raise UserInputError(f"set_size must be a positive integer, got {set_size!r}")
    types = _type_map(configs, type_map)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, atoms in enumerate(configs):
        groups.setdefault(tuple(atoms.get_chemical_symbols()), []).append(i)
    systems: dict[str, tuple[tuple[str, ...], dict[str, np.ndarray]]] = {}
    for symbols, members in groups.items():
        formula = configs[members[0]].get_chemical_formula(mode="hill")
        name = formula
        for k in range(1, len(groups) + 1):
            if name not in systems:
                break
            name = f"{formula}_{k}"
        systems[name] = (symbols, _system_arrays([configs[i] for i in members], members))
    folder = Path(folder)
    with _atomic_folder(folder, overwrite=overwrite) as tmp:
        for name, (symbols, arrays) in systems.items():
            _write_system(tmp / name, symbols, arrays, types, int(set_size))
    return folder


#: Export formats by name: ``writer(configurations, path, **options) -> Path``.
EXPORTERS: dict[str, Callable[..., Path]] = {"extxyz": write_extxyz, "deepmd": write_deepmd}


def export_configurations(configurations: Iterable[Atoms], path: str | Path, *, format: str,
                          **options: Any) -> Path:
    """Write configurations with the exporter registered as ``format``.

    Parameters
    ----------
    configurations : iterable of Atoms
        Labelled configurations.
    path : str or Path
        Output file (``extxyz``) or folder (``deepmd``).
    format : str
        A name from :data:`EXPORTERS`.
    **options
        Keyword options of that writer (see :func:`write_extxyz`, :func:`write_deepmd`).

    Returns
    -------
    Path
        What was written.

    Raises
    ------
    UserInputError
        Unknown format or option, and whatever the writer rejects.
    """
    if format not in EXPORTERS:
        raise UserInputError(f"unknown export format {format!r}; known formats: "
                             f"{', '.join(EXPORTERS)}")
    writer = EXPORTERS[format]
    accepted = [p.name for p in inspect.signature(writer).parameters.values()
                if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise UserInputError(f"format {format!r} does not take option(s) {', '.join(unknown)}; "
                             f"it accepts: {', '.join(accepted)}")
    return writer(configurations, path, **options)
