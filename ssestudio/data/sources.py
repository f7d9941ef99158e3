"""Where a dataset's starting structures come from, written as one short string.

==================================  ===================================================
``library:beta-Li3PS4``             a structure of :mod:`ssestudio.data.library`
``library:Li6PS5Cl:2x2x2``          ... as a supercell (ordered with the pipeline seed)
``glass:75Li2S-25P2S5:128``         a random glass packing of ~128 atoms
``glass:75Li2S-25P2S5:128:1.9``     ... at 1.9 g/cm^3
``file:path/to/POSCAR``             every frame ASE reads from a file (``file:`` optional)
==================================  ===================================================

Workspace structures (``structure:NAME``) are resolved by the jobs layer, which knows the
workspace, and then passed here as files.
"""

from __future__ import annotations

from pathlib import Path

from ase import Atoms

from ssestudio.core.errors import UserInputError

SOURCE_KINDS = ("library", "glass", "file")


def _library(arg: str, seed: int) -> list[Atoms]:
    from ssestudio.data.library import build_structure

    name, _, size = arg.partition(":")
    supercell = None
    if size:
        try:
            supercell = tuple(int(n) for n in size.lower().split("x"))
            if len(supercell) != 3 or min(supercell) < 1:
                raise ValueError
        except ValueError:
            raise UserInputError(f"a library supercell is written like 2x2x1, got {size!r}") from None
    return [build_structure(name, supercell=supercell, seed=seed)]


def _glass(arg: str, seed: int) -> list[Atoms]:
    from ssestudio.data.glass import random_glass

    parts = arg.split(":")
    if not parts[0] or len(parts) > 3:
        raise UserInputError(f"a glass source is written glass:COMPOSITION:N_ATOMS[:DENSITY], "
                             f"e.g. glass:75Li2S-25P2S5:128; got 'glass:{arg}'")
    try:
        n_atoms = int(parts[1]) if len(parts) > 1 else 128
        density = float(parts[2]) if len(parts) > 2 else None
    except ValueError:
        raise UserInputError(f"glass:{arg}: the atom count must be an integer and the density a "
                             "number in g/cm^3") from None
    return [random_glass(parts[0], n_atoms=n_atoms, density_g_cm3=density, seed=seed)]


def _file(arg: str, seed: int) -> list[Atoms]:
    import ase.io

    path = Path(arg).expanduser()
    if not path.is_file():
        raise UserInputError(f"structure file {path} not found")
    try:
        frames = ase.io.read(str(path), index=":")
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for unreadable files
        raise UserInputError(f"cannot read {path} as a structure ({type(exc).__name__}: {exc});"
                             " use a format ASE reads (cif, POSCAR, extxyz, ...)") from None
    for i, atoms in enumerate(frames):
        atoms.calc = None
        atoms.info = {"provenance": {"source": str(path.resolve()), "frame": i,
                                     "group": str(path.resolve())}}
    return frames


_READERS = {"library": _library, "glass": _glass, "file": _file}


def load_source(text: str, *, seed: int = 0) -> list[Atoms]:
    """The starting structures described by ``text`` (see the module docstring).

    Parameters
    ----------
    text : str
        Source string.
    seed : int
        Seed of random orderings and packings.

    Returns
    -------
    list of Atoms
        With ``info["provenance"]``.

    Raises
    ------
    UserInputError
        An unknown kind, a bad argument or an unreadable file.
    """
    kind, sep, arg = str(text).strip().partition(":")
    if not sep or kind not in _READERS:
        if Path(text).expanduser().is_file():
            return _file(text, seed)
        raise UserInputError(f"cannot understand the structure source {text!r}: write "
                             "library:NAME, glass:COMPOSITION:N_ATOMS, or a file path")
    return _READERS[kind](arg.strip(), seed)
