"""The dataset store: one ASE database (SQLite) per dataset, with versions and splits.

A :class:`Dataset` is a folder holding ``dataset.db``, an :mod:`ase.db` SQLite database
readable by any ASE tool. Each row is one configuration with its key-value pairs:

``content_hash``
    SHA-1 of the structure (numbers, positions rounded to 1e-5 Å, cell, pbc): adding a
    configuration that is already stored is skipped and reported as a duplicate.
``status``
    ``pending`` (no labels yet), ``labelled`` or ``rejected`` (with ``data["reject_reason"]``).
``ds_version``
    The dataset version in which the row became usable; 0 for labelled rows not yet in a
    version (e.g. written by a labelling job that was interrupted), -1 for pending/rejected.
``split``
    ``train``, ``validation`` or ``test`` under the latest split policy.
``group``, ``source``, ``level``, ``temperature_K``
    From the provenance (``data["provenance"]`` holds all of it).

Versions are immutable: version ``k`` is every row with ``1 <= ds_version <= k``, split by
the policy recorded with version ``k``. The split of a row is a deterministic function of
(seed, key) where the key is the row's content hash, or its ``group`` when splitting by
group (so that near-copies from one source never straddle train and test), so adding data
never moves an existing row to another split, and every version can be rebuilt exactly.
Models record ``name@version``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from ssestudio.core.errors import UserInputError
from ssestudio.core.version import code_version
from ssestudio.data.records import (SPLITS, AddReport, DatasetVersion, SplitPolicy,
                                    check_labels, content_hash, labels_of)

DB_FILE = "dataset.db"
STAGED = 0
UNUSABLE = -1


class Dataset:
    """A versioned, de-duplicated set of configurations in an ASE SQLite database.

    Use :meth:`create` or :meth:`open`; see the module docstring for the row layout.
    """

    def __init__(self, folder: Path, db) -> None:
        self.folder, self._db = Path(folder), db

    # ---- opening ---------------------------------------------------------------------
    @classmethod
    def create(cls, folder: str | Path, *, name: str, split: SplitPolicy | None = None,
               description: str = "") -> Dataset:
        """Create a new, empty dataset in ``folder`` (created; must not hold a dataset).

        Raises
        ------
        UserInputError
            The folder already holds a dataset, or the name is empty.
        """
        import ase.db

        folder = Path(folder)
        if (folder / DB_FILE).exists():
            raise UserInputError(f"{folder} already holds a dataset; open it, or choose "
                                 "another folder or name")
        if not str(name).strip():
            raise UserInputError("a dataset needs a name, e.g. 'li3ps4'")
        folder.mkdir(parents=True, exist_ok=True)
        db = ase.db.connect(str(folder / DB_FILE), type="db", append=True)
        _ = db.metadata  # creates the tables first (else ASE resets the metadata later)
        db.metadata = {"name": str(name).strip(), "description": description,
                       "split": asdict(split or SplitPolicy()), "versions": [],
                       "code_version": code_version()}
        return cls(folder, db)

    @classmethod
    def open(cls, folder: str | Path) -> Dataset:
        """Open the dataset in ``folder`` (or the ``dataset.db`` path itself).

        Raises
        ------
        UserInputError
            No dataset there.
        """
        import ase.db

        folder = Path(folder)
        if folder.name == DB_FILE:
            folder = folder.parent
        if not (folder / DB_FILE).is_file():
            raise UserInputError(f"no dataset in {folder} (expected {DB_FILE}); create one "
                                 "with 'ssestudio dataset new NAME'")
        return cls(folder, ase.db.connect(str(folder / DB_FILE), type="db", append=True))

    @property
    def path(self) -> Path:
        """The database file."""
        return self.folder / DB_FILE

    @property
    def metadata(self) -> dict:
        """Name, description, current split policy and the list of versions."""
        return dict(self._db.metadata)

    @property
    def name(self) -> str:
        """Dataset name."""
        return self.metadata["name"]

    @property
    def split_policy(self) -> SplitPolicy:
        """Split policy applied to rows added from now on (and to the next version)."""
        d = self.metadata["split"]
        return SplitPolicy(**{**d, "fractions": tuple(d["fractions"])})

    def __len__(self) -> int:
        return self._db.count()

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} rows, version {self.latest_version})"

    # ---- adding ----------------------------------------------------------------------
    def add(self, configurations: Iterable[Atoms], *, note: str = "",
            max_force_eV_A: float = 50.0, commit: bool = True) -> AddReport:
        """Add configurations; labelled ones (a calculator with energy and forces) become
        usable in a new version, unlabelled ones wait for :meth:`set_labels`.

        Parameters
        ----------
        configurations : iterable of Atoms
            With ``info["provenance"]`` (see :mod:`ssestudio.data`).
        note : str
            Recorded with the new version.
        max_force_eV_A : float
            Labelled configurations beyond this force bound are stored as rejected.
        commit : bool
            Commit a new version when labelled rows were added.

        Returns
        -------
        AddReport
        """
        policy = self.split_policy
        seen = {row.content_hash for row in self._db.select(columns=["key_value_pairs"])}
        added, duplicates, n_labelled = [], 0, 0
        with self._db:
            for atoms in configurations:
                h = content_hash(atoms)
                if h in seen:
                    duplicates += 1
                    continue
                seen.add(h)
                row_id, labelled = self._write(atoms, h, policy, max_force_eV_A)
                added.append(row_id)
                n_labelled += labelled
        version = self.commit_version(note or f"added {n_labelled} labelled configurations") \
            if commit and n_labelled else None
        return AddReport(added=tuple(added), duplicates=duplicates, labelled=n_labelled,
                         pending=len(added) - n_labelled, version=version)

    def _write(self, atoms: Atoms, h: str, policy: SplitPolicy, max_force: float):
        prov = dict(atoms.info.get("provenance") or {})
        group = str(prov.get("group") or prov.get("source") or h)
        kvp = {"content_hash": h, "group": group, "source": str(prov.get("source", "")),
               "split": policy.assign(policy.key(h, group))}
        if prov.get("temperature_K") is not None:
            kvp["temperature_K"] = float(prov["temperature_K"])
        labels, data = labels_of(atoms), {"provenance": _json_ready(prov)}
        clean = atoms.copy()
        clean.info = {}
        status, reason = "pending", None
        if labels is not None:
            reason = check_labels(atoms, labels, max_force_eV_A=max_force)
            status = "rejected" if reason else "labelled"
            if not reason:
                clean.calc = SinglePointCalculator(clean, **labels)
                kvp["level"] = str(prov.get("level", "unknown"))
        if reason:
            data["reject_reason"] = reason
        kvp.update(status=status, ds_version=STAGED if status == "labelled" else UNUSABLE)
        return self._db.write(clean, key_value_pairs=kvp, data=data), status == "labelled"

    # ---- labelling -------------------------------------------------------------------
    def pending_ids(self) -> list[int]:
        """Ids of the rows waiting for labels, in insertion order."""
        return sorted(row.id for row in self._db.select(status="pending", columns=["id"]))

    def set_labels(self, labels: Sequence[tuple[int, dict | None, str | None]], *, level: str,
                   max_force_eV_A: float = 50.0) -> tuple[int, int]:
        """Store the labels of pending rows in one transaction.

        Parameters
        ----------
        labels : sequence of (row id, labels or None, error or None)
            ``labels`` holds ``energy``, ``forces`` and optionally ``stress``; a row with an
            error (or labels failing :func:`check_labels`) is stored as rejected.
        level : str
            Who labelled them, e.g. ``"sevenn:7net-0"``.
        max_force_eV_A : float
            Sanity bound of :func:`check_labels`.

        Returns
        -------
        (int, int)
            Rows labelled and rows rejected.
        """
        done = rejected = 0
        with self._db:
            for row_id, lab, error in labels:
                atoms = self._db.get_atoms(id=row_id)
                reason = error or check_labels(atoms, lab, max_force_eV_A=max_force_eV_A)
                if reason:
                    self._db.update(row_id, status="rejected", data={
                        **self._db.get(id=row_id).data, "reject_reason": reason})
                    rejected += 1
                    continue
                atoms.calc = SinglePointCalculator(atoms, **lab)
                self._db.update(row_id, atoms=atoms, status="labelled", ds_version=STAGED,
                                level=level)
                done += 1
        return done, rejected

    # ---- versions --------------------------------------------------------------------
    def versions(self) -> list[DatasetVersion]:
        """All versions, oldest first."""
        return [DatasetVersion.from_dict(v) for v in self.metadata.get("versions", [])]

    @property
    def latest_version(self) -> int:
        """Number of the newest version (0 when none yet)."""
        versions = self.metadata.get("versions", [])
        return versions[-1]["version"] if versions else 0

    def version(self, version: int | None = None) -> DatasetVersion:
        """Version ``version`` (default the latest).

        Raises
        ------
        UserInputError
            No such version.
        """
        versions = self.versions()
        if not versions:
            raise UserInputError(f"dataset {self.name!r} has no version yet: add labelled "
                                 "configurations or label the pending ones first")
        v = versions[-1].version if version is None else int(version)
        for item in versions:
            if item.version == v:
                return item
        raise UserInputError(f"dataset {self.name!r} has no version {v}; versions: "
                             f"{', '.join(str(x.version) for x in versions)}")

    def commit_version(self, note: str = "", *, split: SplitPolicy | None = None
                       ) -> DatasetVersion | None:
        """Make the staged labelled rows (and a new split policy, if given) a new version.

        Returns
        -------
        DatasetVersion or None
            None when nothing changed (no staged rows and the same split policy).
        """
        meta = self.metadata
        policy = split or self.split_policy
        staged = [row.id for row in self._db.select(ds_version=STAGED, columns=["id"])]
        if not staged and policy == self.split_policy and self.latest_version:
            return None
        number = self.latest_version + 1
        with self._db:
            for row_id in staged:
                self._db.update(row_id, ds_version=number)
            if policy != self.split_policy:
                for row in self._db.select(columns=["id", "key_value_pairs"]):
                    self._db.update(row.id, split=policy.assign(policy.key(row.content_hash,
                                                                           row.group)))
        rows = list(self._usable_rows(number))
        counts = {s: 0 for s in SPLITS}
        for row in rows:
            counts[policy.assign(policy.key(row.content_hash, row.group))] += 1
        digest = hashlib.sha1("".join(sorted(f"{r.content_hash}:{r.mtime}" for r in rows))
                              .encode()).hexdigest()
        empty = [s for s, f in zip(SPLITS, policy.fractions) if f > 0 and not counts[s]]
        notes = (f"the {' and '.join(empty)} split(s) are empty although their fraction is not "
                 f"zero: too few {'groups' if policy.by == 'group' else 'configurations'} "
                 f"({len({r.group for r in rows}) if policy.by == 'group' else len(rows)}) "
                 "for these fractions; add data or re-split",) if empty and rows else ()
        version = DatasetVersion(version=number, created=_now(), n_configurations=len(rows),
                                 counts=counts, content_hash=digest, split=policy, note=note,
                                 code_version=code_version(), warnings=notes)
        meta["versions"] = [*meta.get("versions", []), version.to_dict()]
        meta["split"] = asdict(policy)
        self._db.metadata = meta
        return version

    def resplit(self, policy: SplitPolicy, *, note: str = "") -> DatasetVersion | None:
        """A new version with the same rows under another split policy."""
        return self.commit_version(note or f"re-split {policy.fractions} by {policy.by}, seed "
                                           f"{policy.seed}", split=policy)

    # ---- reading ---------------------------------------------------------------------
    def _usable_rows(self, version: int):
        return (row for row in self._db.select("ds_version>=1", status="labelled")
                if row.ds_version <= version)

    def configurations(self, *, version: int | None = None, split: str | None = None
                       ) -> list[Atoms]:
        """Labelled configurations of a version (default the latest), optionally one split.

        Each has a :class:`SinglePointCalculator` with its labels and
        ``info["provenance"]``, ``info["split"]``, ``info["row_id"]``.
        """
        if split is not None and split not in SPLITS:
            raise UserInputError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        v = self.version(version)
        out = []
        for row in self._usable_rows(v.version):
            which = v.split.assign(v.split.key(row.content_hash, row.group))
            if split is None or which == split:
                out.append(self._atoms(row, which))
        return out

    def _atoms(self, row, split: str | None = None) -> Atoms:
        atoms = row.toatoms()
        atoms.info = {"provenance": dict(row.data.get("provenance", {})), "row_id": row.id,
                      "split": split or row.split, "status": row.status}
        if row.get("level"):
            atoms.info["provenance"]["level"] = row.level
        return atoms

    def get(self, row_id: int) -> Atoms:
        """One row as Atoms (labels attached when it has them)."""
        try:
            return self._atoms(self._db.get(id=int(row_id)))
        except KeyError:
            raise UserInputError(f"dataset {self.name!r} has no row {row_id}") from None

    def rows(self, **selection) -> Iterator:
        """Raw :mod:`ase.db` rows, e.g. ``rows(status="rejected")``."""
        return self._db.select(**selection)

    def status_counts(self) -> dict:
        """Rows per status: ``pending``, ``labelled``, ``rejected``, and ``staged``."""
        counts = {"pending": 0, "labelled": 0, "rejected": 0, "staged": 0}
        for row in self._db.select(columns=["key_value_pairs"]):
            counts[row.status] += 1
            counts["staged"] += row.status == "labelled" and row.ds_version == STAGED
        return counts


def parse_reference(text: str) -> tuple[str, int | None]:
    """``"name@3"`` -> ``("name", 3)``; ``"name"`` -> ``("name", None)`` (latest).

    Raises
    ------
    UserInputError
        A version that is not a positive integer.
    """
    name, sep, version = str(text).partition("@")
    if not sep:
        return name.strip(), None
    try:
        number = int(version)
        if number < 1:
            raise ValueError
    except ValueError:
        raise UserInputError(f"a dataset version is written NAME@N with N = 1, 2, ...; got "
                             f"{text!r}") from None
    return name.strip(), number


def _json_ready(obj):
    return json.loads(json.dumps(obj, default=_default))


def _default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


__all__ = ["AddReport", "Dataset", "DatasetVersion", "SplitPolicy", "check_labels",
           "content_hash", "labels_of", "parse_reference"]
