"""Structure artifacts of a workspace (mixed into :class:`~ssestudio.workspace.Workspace`)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from ssestudio.core.errors import UserInputError
from ssestudio.workspace.errors import NameTakenError
from ssestudio.workspace.records import (StructureRecord, provenance_columns, stored_path,
                                         structure_from_row)
from ssestudio.workspace.schema import utc_now

if TYPE_CHECKING:
    from ase import Atoms


def read_atoms(path: Path) -> "Atoms":
    """Read one structure with :func:`ase.io.read`; reader failures become UserInputError."""
    import ase.io

    if not path.is_file():
        raise UserInputError(f"structure file not found: {path}; check the path")
    try:
        atoms = ase.io.read(str(path))
    except Exception as exc:
        raise UserInputError(
            f"could not read {path.name} as a structure ({type(exc).__name__}: {exc}); use a "
            "file ASE reads (CIF, POSCAR, extxyz, ...) with a recognisable name") from exc
    if isinstance(atoms, list):  # defensive: read() returns the last image by default
        atoms = atoms[-1]
    return atoms


class StructureMixin:
    """Import, list, read and delete structures."""

    def import_structure(self, path: str | os.PathLike, *, name: str | None = None,
                         copy: bool = True, provenance: Mapping[str, Any] | None = None,
                         description: str = "", job_id: int | None = None) -> StructureRecord:
        """Read a structure file with ASE, copy it into ``structures/<name>/`` and register it.

        Parameters
        ----------
        path : path-like
            Any file :func:`ase.io.read` understands (its last image is used).
        name : str, optional
            Unique name; default the file stem made unique.
        copy : bool
            Copy into the workspace (default) or register the file in place.
        provenance : dict, optional
            ``{"inputs": [...], "parameters": {...}}``.
        description : str
            Free text.
        job_id : int, optional
            Job that produced the file.

        Raises
        ------
        UserInputError
            Missing or unreadable file (nothing registered); NameTakenError if ``name`` is used.
        """
        src = Path(path).expanduser().absolute()
        atoms = read_atoms(src)
        cols = provenance_columns(provenance, inputs=[str(src)], parameters={"copy": copy})
        name = self.available_name("structures", name, default=src.stem)
        folder = self.new_artifact_dir("structures", name) if copy else None
        try:
            dst = folder / src.name if folder else src
            if folder:
                shutil.copy2(src, dst)
            return self._insert_structure(dst, name=name, atoms=atoms, cols=cols,
                                          description=description, job_id=job_id)
        except BaseException:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def _insert_structure(self, path: Path, *, name: str, atoms: "Atoms", cols: dict[str, str],
                          description: str, job_id: int | None) -> StructureRecord:
        try:
            with self.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO structures (name, path, formula, n_atoms, description, inputs,"
                    " parameters, code_version, created, job_id) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (name, stored_path(path, self.root), atoms.get_chemical_formula("hill"),
                     len(atoms), description, cols["inputs"], cols["parameters"],
                     cols["code_version"], utc_now(), job_id))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise NameTakenError(f"a structure named {name!r} was registered meanwhile: "
                                 "choose another name") from exc
        return self.get_structure(cur.lastrowid)

    def list_structures(self) -> list[StructureRecord]:
        """All structures, oldest first."""
        return [structure_from_row(r, self.root)
                for r in self.query("SELECT * FROM structures ORDER BY id")]

    def get_structure(self, id_or_name: int | str) -> StructureRecord:
        """The structure with this id or name (:class:`RecordNotFoundError` if none)."""
        return structure_from_row(self._find_row("structures", id_or_name, "structure"),
                                  self.root)

    def read_structure(self, id_or_name: int | str) -> "Atoms":
        """The registered structure as an :class:`ase.Atoms`."""
        return read_atoms(self.get_structure(id_or_name).path)

    def delete_structure(self, id_or_name: int | str, *, delete_files: bool = False) -> None:
        """Unregister a structure; with ``delete_files`` also remove its file if it lies
        inside the workspace."""
        rec = self.get_structure(id_or_name)
        with self.transaction() as conn:
            conn.execute("DELETE FROM structures WHERE id = ?", (rec.id,))
        if delete_files:
            self._delete_files([rec.path])
