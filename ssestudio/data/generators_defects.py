"""Point-defect and disorder generators: ``vacancies``, ``swap``, ``substitute``
(``stuffing`` is in :mod:`ssestudio.data.generators_stuffing`).

Each output's provenance step gets a ``charge_balance`` note in formal charges:
``{"per_defect_e", "net_e", "compensated", "note"}``, e.g. removing one Li+ changes the
cell's formal charge by -1 e. Formal charges come from :data:`FORMAL_CHARGES_E` unless the
``oxidation_states`` parameter overrides them. ``vacancies`` and ``stuffing`` can compensate
the charge by also removing (``compensate_remove``) or converting (``compensate_convert``)
atoms of other species, chosen at random; indices in notes refer to the input structure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.data.generators_core import (
    annotate,
    as_float,
    as_int,
    as_symbol,
    fresh_copy,
    indices_of,
    register_generator,
)

if TYPE_CHECKING:
    from ase import Atoms

#: Common formal oxidation states (e) of elements in sulfide, oxide and halide electrolytes.
FORMAL_CHARGES_E: dict[str, float] = {
    "H": 1, "Li": 1, "Na": 1, "K": 1, "Rb": 1, "Cs": 1, "Ag": 1, "Cu": 1,
    "Mg": 2, "Ca": 2, "Sr": 2, "Ba": 2, "Zn": 2,
    "B": 3, "Al": 3, "Ga": 3, "In": 3, "Sc": 3, "Y": 3, "La": 3,
    "Si": 4, "Ge": 4, "Sn": 4, "Ti": 4, "Zr": 4, "Hf": 4,
    "P": 5, "As": 5, "Sb": 5, "Nb": 5, "Ta": 5, "Mo": 6, "W": 6,
    "N": -3, "O": -2, "S": -2, "Se": -2, "Te": -2, "F": -1, "Cl": -1, "Br": -1, "I": -1,
}


# ----------------------------------------------------------------------------- formal charges
def _charges(overrides: Any, *, where: str) -> dict[str, float]:
    if overrides is None:
        return dict(FORMAL_CHARGES_E)
    if not isinstance(overrides, dict):
        raise UserInputError(f"{where}.oxidation_states must be a dict such as "
                             f"{{'Li': 1, 'S': -2}}, got {overrides!r}")
    return {**FORMAL_CHARGES_E,
            **{as_symbol(k, where=f"{where}.oxidation_states"):
               as_float(v, where=f"{where}.oxidation_states[{k!r}]") for k, v in overrides.items()}}


def _charge_of(symbol: str, charges: dict[str, float], *, where: str) -> float:
    if symbol not in charges:
        raise UserInputError(f"{where}: no formal charge known for {symbol}; give it, e.g. "
                             f"oxidation_states={{{symbol!r}: 2}}")
    return charges[symbol]


def charge_balance(*, defect: str, per_defect_e: float | None, n: int,
                   compensation: str | None = None) -> dict[str, Any]:
    """The ``charge_balance`` note of a step.

    Parameters
    ----------
    defect : str
        What one defect is, e.g. ``"Li vacancy"``.
    per_defect_e : float or None
        Change of the cell's formal charge per defect, e (None: unknown).
    n : int
        Number of defects.
    compensation : str, optional
        How the change was compensated (the net change is then 0).

    Returns
    -------
    dict
        ``{"per_defect_e", "net_e", "compensated", "note"}`` (JSON-ready).
    """
    if per_defect_e is None:
        return {"per_defect_e": None, "net_e": None, "compensated": False,
                "note": f"formal charge change of a {defect} unknown (give oxidation_states)"}
    per_defect_e = float(per_defect_e)
    net = 0.0 if compensation else per_defect_e * n
    if per_defect_e == 0:
        note = f"{defect}: formal charge unchanged"
    elif compensation:
        note = f"{per_defect_e:+g} e per {defect}, compensated by {compensation}"
    else:
        note = f"{per_defect_e:+g} e per {defect}, uncompensated: net {net:+g} e"
    return {"per_defect_e": per_defect_e, "net_e": net,
            "compensated": bool(compensation) or per_defect_e == 0, "note": note}


@dataclass(frozen=True)
class _Compensation:
    """Remove ``count`` atoms of ``species``, or convert them to ``to``."""

    species: str
    to: str | None
    count: int

    def describe(self) -> str:
        """E.g. ``"removing 2 Cl"`` or ``"converting 2 S to Cl"``."""
        if self.to is None:
            return f"removing {self.count} {self.species}"
        return f"converting {self.count} {self.species} to {self.to}"


def _compensation(change_e: float, *, remove: Any, convert: Any, charges: dict[str, float],
                  where: str) -> _Compensation | None:
    """The compensation that cancels a formal-charge change of ``change_e`` e."""
    if remove is None and convert is None:
        return None
    if remove is not None and convert is not None:
        raise UserInputError(f"{where}: give compensate_remove or compensate_convert, not both")
    if remove is not None:
        species, to = as_symbol(remove, where=f"{where}.compensate_remove"), None
        per_op = -_charge_of(species, charges, where=where)
    else:
        if not isinstance(convert, (list, tuple)) or len(convert) != 2:
            raise UserInputError(f"{where}.compensate_convert must be a pair [from, to] such "
                                 f"as ['S', 'Cl'], got {convert!r}")
        species, to = (as_symbol(s, where=f"{where}.compensate_convert") for s in convert)
        per_op = _charge_of(to, charges, where=where) - _charge_of(species, charges, where=where)
    count = -change_e / per_op if per_op else math.inf
    if not (math.isfinite(count) and count >= 1 and abs(count - round(count)) < 1e-9):
        what = f"removals of {species}" if to is None else f"{species}->{to} conversions"
        raise UserInputError(f"{where}: a formal charge change of {change_e:+g} e cannot be "
                             f"cancelled by a whole number of {what} ({per_op:+g} e each); "
                             "choose a species of the opposite effect or change n")
    return _Compensation(species, to, round(count))


def _pick(candidates: np.ndarray, n: int, rng: np.random.Generator, *, what: str,
          where: str) -> np.ndarray:
    if n > len(candidates):
        raise UserInputError(f"{where}: asked for {n} {what} but the structure has only "
                             f"{len(candidates)}; lower n or use a supercell first")
    return np.sort(rng.choice(candidates, n, replace=False))


def _set_species(atoms: Atoms, indices: np.ndarray, symbol: str) -> None:
    """Change the element of ``atoms[indices]`` (and their masses, if stored)."""
    from ase.data import atomic_masses, atomic_numbers

    atoms.numbers[indices] = atomic_numbers[symbol]
    if "masses" in atoms.arrays:
        atoms.arrays["masses"][indices] = atomic_masses[atomic_numbers[symbol]]


def _apply_compensation(atoms: Atoms, out: Atoms, plan: _Compensation | None,
                        rng: np.random.Generator, *, exclude: np.ndarray,
                        where: str) -> tuple[np.ndarray, dict[str, Any] | None]:
    """Convert compensating atoms of ``out`` in place; return the indices to delete."""
    if plan is None:
        return np.zeros(0, dtype=int), None
    candidates = np.setdiff1d(indices_of(atoms, plan.species, where=where), exclude)
    chosen = _pick(candidates, plan.count, rng, what=f"{plan.species} atoms to compensate",
                   where=where)
    note = {"species": plan.species, "to": plan.to, "indices": chosen.tolist()}
    if plan.to is not None:
        _set_species(out, chosen, plan.to)
        return np.zeros(0, dtype=int), note
    return chosen, note


# ----------------------------------------------------------------------------- vacancies
@register_generator("vacancies")
def vacancies(atoms: Atoms, *, rng: np.random.Generator, species: str = "Li", n: int = 1,
              n_copies: int = 1, compensate_remove: str | None = None,
              compensate_convert: list[str] | None = None,
              oxidation_states: dict[str, float] | None = None) -> list[Atoms]:
    """Remove ``n`` random atoms of one species, optionally compensating the charge.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure.
    rng : numpy.random.Generator
        Source of the choice of atoms.
    species : str
        Element whose atoms are removed.
    n : int
        Vacancies per copy.
    n_copies : int
        Independently drawn copies.
    compensate_remove : str, optional
        Also remove random atoms of this species to keep the formal charge (e.g. ``"Cl"``
        with Li vacancies: Schottky-like LiCl pairs).
    compensate_convert : list of 2 str, optional
        Instead convert random atoms ``[from, to]`` (e.g. ``["S", "Cl"]``: each S2- -> Cl-
        cancels one Li+ vacancy).
    oxidation_states : dict, optional
        Formal charges (e) overriding :data:`FORMAL_CHARGES_E`, e.g. ``{"Cu": 2}``.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures; notes ``removed`` (input indices), ``compensation`` and
        ``charge_balance``.
    """
    species = as_symbol(species, where="vacancies.species")
    n = as_int(n, where="vacancies.n", minimum=1)
    n_copies = as_int(n_copies, where="vacancies.n_copies", minimum=1)
    charges = _charges(oxidation_states, where="vacancies")
    wants = (compensate_remove, compensate_convert) != (None, None)
    q = _charge_of(species, charges, where="vacancies") if wants else charges.get(species)
    plan = _compensation(-n * q, remove=compensate_remove, convert=compensate_convert,
                         charges=charges, where="vacancies") if wants else None
    candidates = indices_of(atoms, species, where="vacancies")
    balance = charge_balance(defect=f"{species} vacancy", per_defect_e=None if q is None else -q,
                             n=n, compensation=plan.describe() if plan else None)
    outputs = []
    for _ in range(n_copies):
        removed = _pick(candidates, n, rng, what=f"{species} vacancies", where="vacancies")
        out = fresh_copy(atoms)
        extra, comp = _apply_compensation(atoms, out, plan, rng, exclude=removed,
                                          where="vacancies")
        del out[np.concatenate([removed, extra]).tolist()]
        outputs.append(annotate(out, removed=removed.tolist(), compensation=comp,
                                charge_balance=balance))
    return outputs


# ----------------------------------------------------------------------------- disorder
@register_generator("swap")
def swap(atoms: Atoms, *, rng: np.random.Generator, species: list[str],
         n_pairs: int = 1, n_copies: int = 1) -> list[Atoms]:
    """Exchange the sites of ``n_pairs`` random pairs of two species (site disorder).

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure.
    rng : numpy.random.Generator
        Source of the pairs.
    species : list of 2 str
        The two elements exchanged, e.g. ``["S", "Cl"]`` (anion disorder in argyrodite).
    n_pairs : int
        Pairs exchanged per copy (each atom at most once).
    n_copies : int
        Independently drawn copies.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures (same composition and positions); notes ``pairs`` (input
        indices ``[i_A, i_B]``) and ``charge_balance`` (unchanged).
    """
    if not isinstance(species, (list, tuple)) or len(species) != 2 or species[0] == species[1]:
        raise UserInputError(f"swap.species must be two different elements such as "
                             f"['S', 'Cl'], got {species!r}")
    a, b = (as_symbol(s, where="swap.species") for s in species)
    n_pairs = as_int(n_pairs, where="swap.n_pairs", minimum=1)
    n_copies = as_int(n_copies, where="swap.n_copies", minimum=1)
    ia, ib = indices_of(atoms, a, where="swap"), indices_of(atoms, b, where="swap")
    outputs = []
    for _ in range(n_copies):
        pa = _pick(ia, n_pairs, rng, what=f"{a} atoms", where="swap")
        pb = _pick(ib, n_pairs, rng, what=f"{b} atoms", where="swap")
        out = fresh_copy(atoms)
        _set_species(out, pa, b)
        _set_species(out, pb, a)
        outputs.append(annotate(out, pairs=np.stack([pa, pb], axis=1).tolist(),
                                charge_balance=charge_balance(defect=f"{a}/{b} swap",
                                                              per_defect_e=0.0, n=n_pairs)))
    return outputs


def _substitution_count(atoms: Atoms, replace: str, n: Any, fraction: Any) -> int:
    if (n is None) == (fraction is None):
        raise UserInputError("substitute needs exactly one of n (a number of atoms) or "
                             "fraction (of the atoms of `replace`)")
    available = len(indices_of(atoms, replace, where="substitute"))
    if n is not None:
        return as_int(n, where="substitute.n", minimum=1)
    fraction = as_float(fraction, where="substitute.fraction", low=0.0, high=1.0, low_open=True)
    count = round(fraction * available)
    if count < 1:
        raise UserInputError(f"substitute.fraction = {fraction:g} of {available} {replace} "
                             "atoms rounds to none; raise it or give n")
    return count


@register_generator("substitute")
def substitute(atoms: Atoms, *, rng: np.random.Generator, replace: str, by: str,
               n: int | None = None, fraction: float | None = None, n_copies: int = 1,
               oxidation_states: dict[str, float] | None = None) -> list[Atoms]:
    """Replace random atoms of one element by another (e.g. P->Si, S->O, Cl->Br).

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure.
    rng : numpy.random.Generator
        Source of the choice of atoms.
    replace : str
        Element replaced.
    by : str
        Element put in its place.
    n : int, optional
        Atoms replaced per copy.
    fraction : float, optional
        Instead, this fraction (0, 1] of the ``replace`` atoms (rounded).
    n_copies : int
        Independently drawn copies.
    oxidation_states : dict, optional
        Formal charges (e) overriding :data:`FORMAL_CHARGES_E`.

    Returns
    -------
    list of ase.Atoms
        ``n_copies`` structures; notes ``replaced`` (input indices) and ``charge_balance``
        (``q_by - q_replace`` per substitution, uncompensated: add e.g. a ``stuffing`` or
        ``vacancies`` step to compensate).
    """
    replace = as_symbol(replace, where="substitute.replace")
    by = as_symbol(by, where="substitute.by")
    if replace == by:
        raise UserInputError(f"substitute: replace and by are both {replace}; give two elements")
    count = _substitution_count(atoms, replace, n, fraction)
    n_copies = as_int(n_copies, where="substitute.n_copies", minimum=1)
    charges = _charges(oxidation_states, where="substitute")
    per = None if replace not in charges or by not in charges else charges[by] - charges[replace]
    balance = charge_balance(defect=f"{replace}->{by} substitution", per_defect_e=per, n=count)
    candidates = indices_of(atoms, replace, where="substitute")
    outputs = []
    for _ in range(n_copies):
        chosen = _pick(candidates, count, rng, what=f"{replace} atoms", where="substitute")
        out = fresh_copy(atoms)
        _set_species(out, chosen, by)
        outputs.append(annotate(out, replaced=chosen.tolist(), charge_balance=balance))
    return outputs
