"""Polyanion definitions: which atoms make a rotor unit, and how they are bonded.

A definition is plain data, looked up by name in :data:`ANIONS` (``"PS4"``, ``"P2S7"``,
``"SiS4"``, ``"BH4"``, ``"B12H12"``, ``"AlCl4"``, ``"NbOCl4"``) or made with
:func:`custom_anion`. Units are found by connectivity (see
:mod:`~ssestudio.analysis.rotation.detection`) with one of two groupings:

* ``"cluster"``: a unit is a connected group of centre atoms and the ligands bonded to
  them (centre-ligand bonds, plus centre-centre bonds when ``centre_centre``): PS4 3- is
  one P with four S; a bridging S joins two P into P2S7 4-; the B12 cage of B12H12 2- is
  held together by B-B bonds. Units whose composition differs from the definition's
  (a P2S7 when PS4 is asked for) are reported but not analysed.
* ``"centre"``: a unit is one centre atom with the ligands bonded to it, and ligands may
  be shared between units: the NbOCl4 - chains of LiNbOCl4-type conductors are chains
  of NbCl4O2 octahedra sharing O corners, so each Nb counts 4 Cl and 2 (shared) O.

Bond cutoffs default to :func:`~ssestudio.analysis.structure.pairs.default_bond_cutoff_A`
(1.18 x the sum of covalent radii, Cordero et al., doi:10.1039/b801115j: P-S 2.50 Å,
Si-S 2.55, B-H 1.36, Al-Cl 2.63, Nb-Cl 3.14, Nb-O 2.71 Å) and centre-centre bonds to
:func:`~ssestudio.analysis.structure.pairs.default_homopolar_cutoff_A` (B-B 1.88 Å).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from ssestudio.analysis.structure.pairs import (
    check_element,
    default_bond_cutoff_A,
    default_homopolar_cutoff_A,
    parse_pair,
)
from ssestudio.core.errors import UserInputError

Grouping = Literal["cluster", "centre"]


@dataclass(frozen=True)
class AnionDefinition:
    """What one rotor unit is made of.

    Attributes
    ----------
    name : str
        Registry name or a user label (``"PS4"``).
    centres : tuple of str
        Centre elements (``("P",)``); the unit's centre is the centroid of its centre atoms.
    ligands : tuple of str
        Ligand elements (``("S",)``); their bond vectors from the centre define the
        orientation.
    composition : tuple of (str, int) or None
        Atoms per unit by element, e.g. ``(("P", 1), ("S", 4))``; units of another
        composition are not analysed. None: any unit with the most common composition.
    grouping : {"cluster", "centre"}
        How bonded atoms form units (module docstring).
    centre_centre : bool
        Whether centre-centre bonds join centres into one unit (the B12 cage).
    cutoffs_A : tuple of (str, str, float)
        Bond cutoffs that replace the defaults, e.g. ``(("P", "S", 2.6),)``, Å.
    description : str
        One line for reports.
    """

    name: str
    centres: tuple[str, ...]
    ligands: tuple[str, ...]
    composition: tuple[tuple[str, int], ...] | None
    grouping: Grouping = "cluster"
    centre_centre: bool = False
    cutoffs_A: tuple[tuple[str, str, float], ...] = ()
    description: str = ""

    def bond_cutoffs_A(self) -> dict[tuple[str, str], float]:
        """Cutoff of every bonded element pair (both orders), Å."""
        given = {}
        for a, b, r in self.cutoffs_A:
            given[(a, b)] = given[(b, a)] = float(r)
        out = {}
        for c in self.centres:
            for lig in self.ligands:
                out[(c, lig)] = out[(lig, c)] = given.get((c, lig), default_bond_cutoff_A(c, lig))
            if self.centre_centre:
                for c2 in self.centres:
                    out[(c, c2)] = out[(c2, c)] = given.get((c, c2),
                                                            default_homopolar_cutoff_A(c, c2))
        return out

    @property
    def composition_dict(self) -> dict[str, int] | None:
        """:attr:`composition` as a dict, or None."""
        return None if self.composition is None else dict(self.composition)

    @property
    def n_ligands(self) -> int | None:
        """Ligand atoms per unit (None when the composition is open)."""
        comp = self.composition_dict
        return None if comp is None else sum(comp.get(e, 0) for e in self.ligands)

    def with_cutoff(self, cutoff_A: float | Mapping | None) -> AnionDefinition:
        """A copy with one cutoff for every bonded pair (a float) or per pair
        (``{"P-S": 2.6}``); None returns ``self``.

        Raises
        ------
        UserInputError
            A non-positive cutoff, or a pair that is not bonded in this definition.
        """
        if cutoff_A is None:
            return self
        pairs = {(a, b) for a, b in self.bond_cutoffs_A()}
        if isinstance(cutoff_A, Mapping):
            items = {parse_pair(k): _positive(v) for k, v in cutoff_A.items()}
            unknown = [f"{a}-{b}" for a, b in items if (a, b) not in pairs]
            if unknown:
                raise UserInputError(f"{self.name} has no {', '.join(unknown)} bond; its bonds "
                                     f"are {', '.join(sorted({'-'.join(p) for p in pairs}))}")
        else:
            value = _positive(cutoff_A)
            items = {p: value for p in pairs}
        return replace(self, cutoffs_A=tuple((a, b, r) for (a, b), r in sorted(items.items())))


def _positive(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        out = float("nan")
    if not out > 0 or out == float("inf"):
        raise UserInputError(f"a bond cutoff must be a positive distance in Å, got {value!r}")
    return out


def _define(name, centres, ligands, composition, description, **kw) -> AnionDefinition:
    return AnionDefinition(name=name, centres=centres, ligands=ligands,
                           composition=composition, description=description, **kw)


#: Built-in anion definitions by name.
ANIONS: dict[str, AnionDefinition] = {}


def register_anion(definition: AnionDefinition, *, overwrite: bool = False) -> AnionDefinition:
    """Add ``definition`` to :data:`ANIONS` under its name.

    Raises
    ------
    UserInputError
        The name is taken (pass ``overwrite=True`` to replace it).
    """
    if definition.name in ANIONS and not overwrite:
        raise UserInputError(f"anion {definition.name!r} is already defined; choose another "
                             "name or pass overwrite=True")
    ANIONS[definition.name] = definition
    return definition


for _d in (
    _define("PS4", ("P",), ("S",), (("P", 1), ("S", 4)), "ortho-thiophosphate PS4 3-"),
    _define("P2S7", ("P",), ("S",), (("P", 2), ("S", 7)),
            "pyro-thiophosphate P2S7 4- (two corner-sharing PS4)"),
    _define("SiS4", ("Si",), ("S",), (("Si", 1), ("S", 4)), "ortho-thiosilicate SiS4 4-"),
    _define("BH4", ("B",), ("H",), (("B", 1), ("H", 4)), "borohydride BH4 -"),
    _define("B12H12", ("B",), ("H",), (("B", 12), ("H", 12)),
            "closo-dodecaborate B12H12 2- (B12 cage, B-B bonds)", centre_centre=True),
    _define("AlCl4", ("Al",), ("Cl",), (("Al", 1), ("Cl", 4)), "tetrachloroaluminate AlCl4 -"),
    _define("NbOCl4", ("Nb",), ("O", "Cl"), (("Nb", 1), ("O", 2), ("Cl", 4)),
            "NbOCl4 - chains: NbCl4O2 octahedra sharing O corners (each O counted by both Nb)",
            grouping="centre"),
):
    register_anion(_d)


def custom_anion(centre: str | tuple[str, ...], ligands: str | tuple[str, ...], *,
                 n_ligands: int | None = None, cutoff_A: float | None = None,
                 grouping: Grouping = "cluster", centre_centre: bool = False,
                 name: str | None = None) -> AnionDefinition:
    """A user-defined anion from its centre and ligand elements.

    Parameters
    ----------
    centre : str or tuple of str
        Centre element(s), e.g. ``"P"`` or ``"P,Ge"``.
    ligands : str or tuple of str
        Ligand element(s), e.g. ``"S"`` or ``"O,Cl"``.
    n_ligands : int, optional
        Ligands per unit (and one centre atom per unit); default: the most common
        composition found.
    cutoff_A : float, optional
        Centre-ligand bond cutoff, Å (default 1.18 x the sum of covalent radii).
    grouping : {"cluster", "centre"}
        See the module docstring.
    centre_centre : bool
        Join centres bonded to each other into one unit.
    name : str, optional
        Label (default ``centre + ligands + n``, e.g. ``"PS4"``).

    Raises
    ------
    UserInputError
        An unknown element, a centre that is also a ligand, ``n_ligands < 2``.
    """
    cs, ls = _elements(centre, "centre"), _elements(ligands, "ligand")
    if set(cs) & set(ls):
        raise UserInputError(f"{', '.join(sorted(set(cs) & set(ls)))} cannot be both centre and "
                             "ligand of an anion")
    if grouping not in ("cluster", "centre"):
        raise UserInputError(f"grouping must be 'cluster' or 'centre', got {grouping!r}")
    composition = None
    if n_ligands is not None:
        if int(n_ligands) < 2 or len(cs) != 1 or len(ls) != 1:
            raise UserInputError("n_ligands needs one centre and one ligand element and at least "
                                 f"2 ligands (an orientation needs 2 non-parallel bonds); got "
                                 f"{n_ligands} for {cs}/{ls}")
        composition = ((cs[0], 1), (ls[0], int(n_ligands)))
    label = name or ("".join(cs) + "".join(ls) + (str(n_ligands) if n_ligands else ""))
    definition = AnionDefinition(name=label, centres=cs, ligands=ls, composition=composition,
                                 grouping=grouping, centre_centre=centre_centre,
                                 description=f"user-defined {'/'.join(cs)}-{'/'.join(ls)} unit")
    return definition.with_cutoff(cutoff_A)


def _elements(value, what: str) -> tuple[str, ...]:
    items = re.split(r"[,\s]+", value.strip()) if isinstance(value, str) else list(value)
    items = [str(i) for i in items if str(i)]
    if not items:
        raise UserInputError(f"give at least one {what} element, e.g. 'P'")
    return tuple(check_element(i) for i in items)


def resolve_anion(anion: str | AnionDefinition) -> AnionDefinition:
    """The definition of ``anion``: a registry name (case-insensitive) or a definition.

    Raises
    ------
    UserInputError
        An unknown name (the message lists the known ones and how to define another).
    """
    if isinstance(anion, AnionDefinition):
        return anion
    if isinstance(anion, str):
        lookup = {k.lower(): v for k, v in ANIONS.items()}
        found = lookup.get(anion.strip().lower())
        if found is not None:
            return found
    raise UserInputError(f"unknown anion {anion!r}; known: {', '.join(ANIONS)}. For another one "
                         "give its centre and ligand elements (custom_anion('Ge', 'S', "
                         "n_ligands=4); CLI: --centre Ge --ligand S --n-ligands 4)")
