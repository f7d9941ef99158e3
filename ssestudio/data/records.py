"""Records of the dataset store: split policy, versions, add reports, structure hashes and
label checks (used by :mod:`ssestudio.data.store`)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from ase import Atoms
from ase.stress import full_3x3_to_voigt_6_stress

from ssestudio.core.errors import UserInputError

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class SplitPolicy:
    """How configurations are divided into train, validation and test sets.

    Attributes
    ----------
    fractions : (float, float, float)
        Train, validation and test fractions (non-negative, sum 1).
    seed : int
        Seed of the assignment.
    by : {"configuration", "group"}
        Assign each configuration on its own, or whole groups (``provenance["group"]``,
        default the source file or structure) together.
    """

    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    by: Literal["configuration", "group"] = "configuration"

    def __post_init__(self) -> None:
        try:
            fr = tuple(float(f) for f in self.fractions)
        except (TypeError, ValueError):
            fr = ()
        if len(fr) != 3 or min(fr) < 0 or abs(sum(fr) - 1.0) > 1e-6:
            raise UserInputError(f"split fractions must be three non-negative numbers (train, "
                                 f"validation, test) summing to 1, got {self.fractions!r}")
        if self.by not in ("configuration", "group"):
            raise UserInputError(f"split by must be 'configuration' or 'group', got {self.by!r}")
        object.__setattr__(self, "fractions", fr)
        object.__setattr__(self, "seed", int(self.seed))

    def assign(self, key: str) -> str:
        """The split of a configuration whose split key is ``key``."""
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        u = int.from_bytes(digest[:8], "big") / 2.0**64
        train, validation, _ = self.fractions
        return "train" if u < train else ("validation" if u < train + validation else "test")

    def key(self, content_hash: str, group: str) -> str:
        """The split key of a row: its content hash, or its group."""
        return group if self.by == "group" else content_hash


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset.

    Attributes
    ----------
    version : int
        1, 2, ...
    created : str
        UTC ISO-8601 time.
    n_configurations : int
        Labelled configurations in this version.
    counts : dict
        Configurations per split.
    content_hash : str
        SHA-1 over the sorted (content hash, label hash) of its rows.
    split : SplitPolicy
        The split policy of this version.
    note : str
        What changed (e.g. "labelled 120 configurations with sevenn").
    code_version : str
        ssestudio version that wrote it.
    warnings : tuple of str
        E.g. a split left empty although its fraction is not zero.
    """

    version: int
    created: str
    n_configurations: int
    counts: dict
    content_hash: str
    split: SplitPolicy
    note: str = ""
    code_version: str = ""
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dictionary."""
        out = asdict(self)
        out["split"] = {**asdict(self.split), "fractions": list(self.split.fractions)}
        return out

    @classmethod
    def from_dict(cls, d: dict) -> DatasetVersion:
        """Inverse of :meth:`to_dict`."""
        split = SplitPolicy(**{**d["split"], "fractions": tuple(d["split"]["fractions"])})
        return cls(**{**d, "split": split, "warnings": tuple(d.get("warnings", ()))})


@dataclass(frozen=True)
class AddReport:
    """What :meth:`Dataset.add` did.

    Attributes
    ----------
    added : tuple of int
        Row ids of the configurations added.
    duplicates : int
        Configurations skipped because an identical structure is already stored.
    labelled, pending : int
        Of the added ones: with labels, and waiting for labels.
    version : DatasetVersion or None
        The new version, when labelled rows were added and committed.
    """

    added: tuple[int, ...]
    duplicates: int
    labelled: int
    pending: int
    version: DatasetVersion | None = None

    def to_dict(self) -> dict:
        """JSON-ready summary."""
        return {"added": len(self.added), "duplicates": self.duplicates,
                "labelled": self.labelled, "pending": self.pending,
                "version": None if self.version is None else self.version.version}


def content_hash(atoms: Atoms) -> str:
    """SHA-1 of a structure: numbers, positions rounded to 1e-5 Å, cell (1e-5 Å), pbc."""
    h = hashlib.sha1()
    h.update(np.asarray(atoms.numbers, dtype=np.int64).tobytes())
    h.update(np.round(atoms.positions, 5).astype(np.float64).tobytes())
    h.update(np.round(np.asarray(atoms.cell), 5).astype(np.float64).tobytes())
    h.update(np.asarray(atoms.pbc, dtype=bool).tobytes())
    return h.hexdigest()


def labels_of(atoms: Atoms) -> dict | None:
    """Energy (eV), forces (eV/Å, (N, 3)) and stress (eV/Å^3, Voigt 6) of a labelled
    configuration, or None when it carries no energy and forces."""
    calc = atoms.calc
    if calc is None:
        return None
    results = getattr(calc, "results", {})
    if "energy" not in results or "forces" not in results:
        return None
    out = {"energy": float(results["energy"]), "forces": np.asarray(results["forces"], float)}
    if results.get("stress") is not None:
        stress = np.asarray(results["stress"], float)
        out["stress"] = full_3x3_to_voigt_6_stress(stress) if stress.shape == (3, 3) else stress
    return out



def check_labels(atoms: Atoms, labels: dict, *, max_force_eV_A: float = 50.0) -> str | None:
    """Why ``labels`` cannot be used for ``atoms`` (a sentence), or None when they can.

    Parameters
    ----------
    atoms : Atoms
    labels : dict
        ``energy``, ``forces`` and optionally ``stress``.
    max_force_eV_A : float
        Largest force component accepted, eV/Å (a sanity bound: larger forces mean
        overlapping atoms or a failed calculation).
    """
    forces = np.asarray(labels.get("forces"), dtype=float)
    if forces.shape != (len(atoms), 3):
        return f"forces have shape {forces.shape}, expected ({len(atoms)}, 3)"
    values = [np.atleast_1d(labels["energy"]), forces.ravel()]
    if labels.get("stress") is not None:
        values.append(np.asarray(labels["stress"], float).ravel())
    if not all(np.isfinite(v).all() for v in values):
        return "energy, forces or stress not finite (NaN or inf)"
    fmax = float(np.abs(forces).max()) if forces.size else 0.0
    if fmax > max_force_eV_A:
        return f"largest force component {fmax:.3g} eV/Å exceeds the sanity bound {max_force_eV_A:g} eV/Å"
    return None
