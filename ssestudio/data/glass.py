"""Random starting configurations for glasses such as 75Li2S-25P2S5.

:func:`parse_composition` reads a mole-part composition string; :func:`random_glass` packs
that composition at a given density into a cubic periodic box, either as rigid network
units (``units="molecular"``) or atom by atom (``units="atoms"``). Both only produce a
non-overlapping start: melt-quench it (MD) before using it as a glass.

Unit assignment (``units="molecular"``)
---------------------------------------
Network formers (P, Si, Ge) are bonded to the chalcogen X (S, or O when there is no S) in
rigid tetrahedra, with bond lengths from :data:`FORMER_BOND_LENGTHS` (P-S 2.05, Si-S 2.13,
Ge-S 2.22, P-O 1.54, Si-O 1.63, Ge-O 1.75 Å). With F formers and X chalcogens:

* X >= 4F: every former is an isolated FX4 tetrahedron (PS4 3-, SiS4 4-, ...), and the
  X - 4F chalcogens left over are free anions (S2-);
* 3.5F <= X < 4F: 4F - X pairs of formers share a corner (F2X7, e.g. P2S7 4-, bridging
  angle 110 degrees) and the rest stay isolated; formers are paired in the order P, Si, Ge;
* X < 3.5F (e.g. P2S5-rich, needs chains or rings): refused, use ``units="atoms"``.

Modifier cations (Li, Na, ...) and the remaining anions (free S2-, I-, Br-, Cl-, O2-, ...)
are placed singly. Packing (:mod:`ssestudio.data.glass_packing`): the units are placed at
half the density and compressed in stages, then the single atoms are inserted; after each
step units (rigidly) and atoms are moved until every minimum distance holds.

Default minimum distances
-------------------------
From the formal charge of each element (cation, network former or anion) and approximate
ionic radii :data:`IONIC_RADII` (Å) or ASE's covalent radii r_cov:

* anion-anion 0.7 (r_a + r_b) (S-S 2.58, I-I 3.08 Å; well above the S-S bond, 2.05 Å,
  while leaving rigid units room to pack); cation-anion 0.85 (r_a + r_b)
  (Li-S 2.21, Li-I 2.52, Li-O 1.84 Å); cation-cation 1.45 (r_a + r_b) (Li-Li 2.20 Å);
* former-anion 0.9 (r_cov,a + r_cov,b) (P-S 1.91 Å), former-cation and former-former
  1.1 (r_cov,a + r_cov,b) (Li-P 2.59, P-P 2.35 Å).

Distances inside a rigid unit are its bond geometry and are not checked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from types import MappingProxyType
from typing import Literal

import numpy as np

from ssestudio.core.errors import UserInputError
from ssestudio.data.glass_packing import Packer, pack, too_dense

__all__ = [
    "COMPONENT_DENSITIES_G_CM3",
    "FORMER_BOND_LENGTHS",
    "GLASS_DENSITIES_G_CM3",
    "GlassComposition",
    "default_min_distance",
    "estimate_density",
    "parse_composition",
    "random_glass",
]

#: Formal charges used to classify elements and check that components are neutral (e).
FORMAL_CHARGES: Mapping[str, int] = MappingProxyType({
    "Li": 1, "Na": 1, "K": 1, "Ag": 1, "Cu": 1, "Mg": 2, "Ca": 2, "Zn": 2, "Al": 3, "Y": 3,
    "La": 3, "Zr": 4, "B": 3, "P": 5, "Si": 4, "Ge": 4, "Sn": 4, "As": 5, "Sb": 5,
    "O": -2, "S": -2, "Se": -2, "N": -3, "F": -1, "Cl": -1, "Br": -1, "I": -1,
})
#: Elements that form covalent units with the chalcogen (network formers).
NETWORK_FORMERS = frozenset({"B", "P", "Si", "Ge", "Sn", "As", "Sb", "Al"})
#: Approximate ionic radii (Å; Shannon, octahedral, rounded) for default distances.
IONIC_RADII: Mapping[str, float] = MappingProxyType({
    "Li": 0.76, "Na": 1.02, "K": 1.38, "Ag": 1.15, "Cu": 0.77, "Mg": 0.72, "Ca": 1.00,
    "Zn": 0.74, "Y": 0.90, "La": 1.03, "Zr": 0.72,
    "O": 1.40, "S": 1.84, "Se": 1.98, "N": 1.46, "F": 1.33, "Cl": 1.81, "Br": 1.96, "I": 2.20,
})
#: Bond lengths of the rigid tetrahedra, (former, chalcogen) -> Å.
FORMER_BOND_LENGTHS: Mapping[tuple[str, str], float] = MappingProxyType({
    ("P", "S"): 2.05, ("Si", "S"): 2.13, ("Ge", "S"): 2.22,
    ("P", "O"): 1.54, ("Si", "O"): 1.63, ("Ge", "O"): 1.75,
})
#: Measured glass densities (g/cm^3), keyed by the reduced component mole ratio.
#: 75Li2S-25P2S5: measured values lie between about 1.87 and 1.93 g/cm^3 (e.g. K. Ohara et
#: al., Sci. Rep. 6, 21302 (2016), doi:10.1038/srep21302); 1.87 is used.
GLASS_DENSITIES_G_CM3: Mapping[tuple[tuple[str, int], ...], float] = MappingProxyType({
    (("Li2S", 3), ("P2S5", 1)): 1.87,
})
#: Crystal densities of common components (g/cm^3, room temperature) for the ideal-mixing
#: estimate of :func:`estimate_density`.
COMPONENT_DENSITIES_G_CM3: Mapping[str, float] = MappingProxyType({
    "Li2S": 1.64, "P2S5": 2.09, "SiS2": 2.02, "GeS2": 2.94, "B2S3": 1.55, "Li3PS4": 1.87,
    "LiI": 4.08, "LiBr": 3.46, "LiCl": 2.07, "LiF": 2.64, "Li2O": 2.01, "P2O5": 2.39,
    "SiO2": 2.20, "Na2S": 1.86, "Li4SiS4": 1.88, "Li4GeS4": 2.28,
})
_AVOGADRO = 6.02214076e23
_PART = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Z][A-Za-z0-9]*)\s*$")


def _simple_ratio(comp: GlassComposition, max_denominator: int = 4) -> str:
    """A composition string with small integer mole parts near ``comp``'s (a hint)."""
    fractions = {c: Fraction(f).limit_denominator(max_denominator)
                 for c, f in comp.fractions.items()}
    scale = reduce(math.lcm, (f.denominator for f in fractions.values()), 1)
    return "-".join(f"{int(f * scale)}{c}" for c, f in fractions.items() if f > 0)


@dataclass(frozen=True)
class GlassComposition:
    """A parsed glass composition.

    Attributes
    ----------
    text : str
        Canonical string, e.g. ``"75Li2S-25P2S5"``.
    fractions : mapping of str to float
        Component formula -> mole fraction (sums to 1).
    element_counts : mapping of str to int
        Element -> count in the smallest integer formula unit (75Li2S-25P2S5 -> Li3 P1 S4).
    """

    text: str
    fractions: Mapping[str, float]
    element_counts: Mapping[str, int]
    _parts: tuple[tuple[str, Fraction], ...] = ()

    @property
    def atoms_per_formula_unit(self) -> int:
        """Atoms in the smallest integer formula unit."""
        return sum(self.element_counts.values())

    @property
    def ratio(self) -> tuple[tuple[str, int], ...]:
        """Components with their smallest integer mole ratio, sorted by formula."""
        parts = dict(self._parts)
        scale = reduce(math.lcm, (p.denominator for p in parts.values()), 1)
        ints = {c: int(p * scale) for c, p in parts.items()}
        div = reduce(math.gcd, ints.values())
        return tuple(sorted((c, n // div) for c, n in ints.items()))


def _component_counts(formula: str, text: str) -> dict[str, int]:
    from ase.data import chemical_symbols
    from ase.formula import Formula

    tokens = re.findall(r"[A-Z][a-z]?|\d+|.", formula)
    bad = [t for t in tokens if not (t.isdigit() or t in chemical_symbols[1:])]
    if bad:
        raise UserInputError(f"component {formula!r} of {text!r} is not a chemical formula "
                             f"({''.join(bad)!r} is not an element); write e.g. 'Li2S'")
    counts = dict(Formula(formula).count())
    unknown = sorted(set(counts) - set(FORMAL_CHARGES))
    if unknown:
        raise UserInputError(f"component {formula} of {text!r} contains {', '.join(unknown)}, "
                             f"which has no formal charge here; supported elements: "
                             f"{', '.join(FORMAL_CHARGES)}")
    if sum(FORMAL_CHARGES[el] * n for el, n in counts.items()):
        charges = ", ".join(f"{el} {FORMAL_CHARGES[el]:+d}" for el in counts)
        raise UserInputError(f"component {formula} of {text!r} is not charge neutral with "
                             f"the formal charges {charges}; use neutral compounds such as "
                             f"Li2S, P2S5, SiS2, LiI")
    return counts


def parse_composition(text: str) -> GlassComposition:
    """Parse a composition such as ``"75Li2S-25P2S5"`` or ``"30LiI-70Li3PS4"``.

    Parameters
    ----------
    text : str
        Components separated by ``-`` (or ``·``), each a positive mole part (integer or
        decimal) followed by a neutral formula: ``"70Li2S-30P2S5"``, ``"60Li2S-40SiS2"``,
        ``"66.7Li2S-33.3P2S5"``, ``"45Li2S-30P2S5-25LiI"``.

    Returns
    -------
    GlassComposition
        Mole fractions per component and element counts of the smallest integer formula.

    Raises
    ------
    UserInputError
        Empty or malformed text, a part that is not a positive number, an unknown element,
        a component that is not charge neutral, or the same component twice.
    """
    if not isinstance(text, str) or not text.strip():
        raise UserInputError("composition must be a non-empty string such as '75Li2S-25P2S5'")
    parts: dict[str, Fraction] = {}
    counts: dict[str, dict[str, int]] = {}
    for chunk in re.split(r"[-·–]", text.strip()):
        match = _PART.match(chunk)
        if not match:
            raise UserInputError(f"cannot read {chunk.strip()!r} in composition {text!r}: each "
                                 f"component is a mole part and a formula, e.g. '75Li2S', "
                                 f"separated by '-' as in '75Li2S-25P2S5'")
        amount, formula = Fraction(match.group(1)), match.group(2)
        if amount <= 0:
            raise UserInputError(f"mole part of {formula} in {text!r} must be > 0")
        if formula in parts:
            raise UserInputError(f"{formula} appears twice in {text!r}; give each component once")
        parts[formula] = amount
        counts[formula] = _component_counts(formula, text)
    total = sum(parts.values())
    parts = {c: p / total for c, p in parts.items()}
    scale = reduce(math.lcm, (p.denominator for p in parts.values()), 1)
    elements: dict[str, int] = {}
    for formula, part in parts.items():
        for el, n in counts[formula].items():
            elements[el] = elements.get(el, 0) + int(part * scale) * n
    div = reduce(math.gcd, elements.values())
    canonical = "-".join(f"{_fmt(100 * p)}{c}" for c, p in parts.items())
    return GlassComposition(
        text=canonical,
        fractions=MappingProxyType({c: float(p) for c, p in parts.items()}),
        element_counts=MappingProxyType({el: n // div for el, n in elements.items()}),
        _parts=tuple(parts.items()),
    )


def _fmt(percent: Fraction) -> str:
    return str(int(percent)) if percent.denominator == 1 else f"{float(percent):.4g}"


def estimate_density(composition: GlassComposition | str) -> float:
    """Default density of a glass (g/cm^3).

    A measured value from :data:`GLASS_DENSITIES_G_CM3` when the composition is listed,
    otherwise ideal mixing of the component crystal densities
    (:data:`COMPONENT_DENSITIES_G_CM3`): rho = sum_i x_i M_i / sum_i (x_i M_i / rho_i),
    x_i mole fraction, M_i molar mass, rho_i density of component i.

    Raises
    ------
    UserInputError
        When a component has no tabulated density (pass ``density_g_cm3`` instead).
    """
    from ase.data import atomic_masses, atomic_numbers
    from ase.formula import Formula

    comp = parse_composition(composition) if isinstance(composition, str) else composition
    if comp.ratio in GLASS_DENSITIES_G_CM3:
        return GLASS_DENSITIES_G_CM3[comp.ratio]
    missing = [c for c in comp.fractions if c not in COMPONENT_DENSITIES_G_CM3]
    if missing:
        raise UserInputError(f"no tabulated density for {', '.join(missing)}; pass "
                             f"density_g_cm3 explicitly (known components: "
                             f"{', '.join(COMPONENT_DENSITIES_G_CM3)})")
    mass = volume = 0.0
    for formula, x in comp.fractions.items():
        molar = sum(atomic_masses[atomic_numbers[el]] * n
                    for el, n in Formula(formula).count().items())
        mass += x * molar
        volume += x * molar / COMPONENT_DENSITIES_G_CM3[formula]
    return mass / volume


def _role(element: str) -> str:
    if element in NETWORK_FORMERS:
        return "former"
    return "cation" if FORMAL_CHARGES[element] > 0 else "anion"


def default_min_distance(a: str, b: str) -> float:
    """Default minimum distance between elements ``a`` and ``b`` (Å); rules in the module doc."""
    from ase.data import atomic_numbers, covalent_radii

    roles = {_role(a), _role(b)} if a != b else {_role(a)}
    cov = covalent_radii[atomic_numbers[a]] + covalent_radii[atomic_numbers[b]]
    if "former" in roles:
        return round((0.9 if "anion" in roles else 1.1) * cov, 3)
    ionic = IONIC_RADII[a] + IONIC_RADII[b]
    factor = {frozenset({"anion"}): 0.7, frozenset({"cation"}): 1.45}.get(frozenset(roles), 0.85)
    return round(factor * ionic, 3)


def _distance_table(elements, overrides) -> dict[tuple[str, str], float]:
    table = {tuple(sorted((a, b))): default_min_distance(a, b)
             for a in elements for b in elements}
    for key, value in dict(overrides or {}).items():
        pair = tuple(key.split("-")) if isinstance(key, str) else tuple(key)
        if len(pair) != 2 or not all(el in elements for el in pair):
            raise UserInputError(f"min_distances key {key!r} must name two elements of the "
                                 f"glass ({', '.join(sorted(elements))}), e.g. 'Li-S' or "
                                 f"('Li', 'S')")
        if not float(value) > 0:
            raise UserInputError(f"min_distances[{key!r}] must be a positive distance in Å")
        table[tuple(sorted(pair))] = float(value)
    return table


def _tetrahedron(bond: float) -> np.ndarray:
    """Ligand positions of a regular tetrahedron around the origin, shape (4, 3)."""
    return bond / math.sqrt(3) * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])


def _rotation_to(vector: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotation matrix (3, 3) turning direction ``vector`` onto ``target``."""
    from scipy.spatial.transform import Rotation

    u, v = vector / np.linalg.norm(vector), target / np.linalg.norm(target)
    axis, angle = np.cross(u, v), math.acos(max(-1.0, min(1.0, float(u @ v))))
    if np.linalg.norm(axis) < 1e-9:
        axis = np.cross(u, [1.0, 0.0, 0.0] if abs(u[0]) < 0.9 else [0.0, 1.0, 0.0])
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def _axis_rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def _dimer(bond: float, angle_deg: float = 110.0) -> np.ndarray:
    """F2X7 corner-sharing pair: rows F1, F2, bridging X, then 6 terminal X; shape (9, 3) Å.

    Each tetrahedron is turned about its bridge bond (steps of 10 degrees) so that the
    terminal ligands of the two tetrahedra are as far apart as possible.
    """
    half = math.radians(angle_deg) / 2
    centres = bond * np.array([[math.sin(half), 0.0, math.cos(half)],
                               [-math.sin(half), 0.0, math.cos(half)]])
    halves = []
    for centre in centres:
        tet = _tetrahedron(bond) @ _rotation_to(_tetrahedron(bond)[0], -centre).T
        halves.append([centre + tet[1:] @ _axis_rotation(-centre, math.radians(t)).T
                       for t in range(0, 120, 10)])
    best = max(((a, b) for a in halves[0] for b in halves[1]),
               key=lambda ab: np.linalg.norm(ab[0][:, None] - ab[1][None], axis=-1).min())
    return np.vstack([centres, np.zeros((1, 3)), *best])


@dataclass(frozen=True)
class _Unit:
    symbols: tuple[str, ...]
    offsets: np.ndarray  # (n, 3) Å, relative to the unit centre


def _network_units(counts: dict[str, int]) -> tuple[list[_Unit], dict[str, int]]:
    """Rigid former units and the counts of atoms left to place one by one."""
    formers = [el for el in ("P", "Si", "Ge") if counts.get(el)]
    if set(counts) & NETWORK_FORMERS - set(formers):
        other = ", ".join(sorted(set(counts) & NETWORK_FORMERS - set(formers)))
        raise UserInputError(f"units='molecular' builds P, Si and Ge tetrahedra only, not "
                             f"{other}; use units='atoms'")
    left = dict(counts)
    if not formers:
        return [], left
    chalcogen = "S" if counts.get("S") else "O" if counts.get("O") else None
    if chalcogen is None or (chalcogen == "S" and counts.get("O")):
        raise UserInputError("units='molecular' needs the formers bonded to S alone or O "
                             "alone; for mixed or other anions use units='atoms'")
    n_formers, n_x = sum(counts[f] for f in formers), counts[chalcogen]
    if 2 * n_x < 7 * n_formers:
        raise UserInputError(f"{n_x} {chalcogen} for {n_formers} network formers is below "
                             f"3.5 per former, too few for isolated or corner-sharing "
                             f"tetrahedra (chains or rings would be needed); use units='atoms'")
    n_dimers = max(0, 4 * n_formers - n_x)
    sequence = [f for f in formers for _ in range(counts[f])]
    units = []
    for k in range(n_dimers):
        f1, f2 = sequence[2 * k], sequence[2 * k + 1]
        bond = (FORMER_BOND_LENGTHS[(f1, chalcogen)] + FORMER_BOND_LENGTHS[(f2, chalcogen)]) / 2
        geometry = _dimer(bond)
        units.append(_Unit((f1, f2) + (chalcogen,) * 7, geometry - geometry.mean(axis=0)))
    for f in sequence[2 * n_dimers:]:
        tet = _tetrahedron(FORMER_BOND_LENGTHS[(f, chalcogen)])
        units.append(_Unit((f,) + (chalcogen,) * 4, np.vstack([np.zeros((1, 3)), tet])))
    for f in formers:
        left[f] = 0
    left[chalcogen] = n_x - (4 * n_formers - n_dimers)
    return units, {el: n for el, n in left.items() if n}


def random_glass(composition: str | GlassComposition, *, n_atoms: int = 200,
                 density_g_cm3: float | None = None, seed: int = 0,
                 units: Literal["molecular", "atoms"] = "molecular",
                 min_distances: Mapping | None = None, max_sweeps: int = 300):
    """Random non-overlapping configuration of a glass composition in a cubic box.

    Parameters
    ----------
    composition : str or GlassComposition
        E.g. ``"75Li2S-25P2S5"`` (see :func:`parse_composition`).
    n_atoms : int
        Approximate size; the nearest multiple (at least 1) of the smallest integer
        formula unit is used, so the stoichiometry is exact.
    density_g_cm3 : float, optional
        Target density (g/cm^3); the box edge follows from it exactly. Default:
        :func:`estimate_density`.
    seed : int
        Seed of every random choice (positions, orientations).
    units : {"molecular", "atoms"}
        ``"molecular"``: rigid PS4/P2S7/SiS4/GeS4 (or oxide) units first, then the other
        atoms (unit assignment rule in the module docstring); ``"atoms"``: every atom at a
        random position.
    min_distances : mapping, optional
        Overrides of the default minimum distances (Å), keyed ``"Li-S"`` or
        ``("Li", "S")``; the defaults follow the rules in the module docstring.
    max_sweeps : int
        Bound on the overlap-removal sweeps (each tries a few random moves of every unit or
        atom that still violates a minimum distance) before giving up.

    Returns
    -------
    ase.Atoms
        Cubic periodic cell. ``arrays["glass_unit"]`` holds the rigid-unit index of each
        atom (-1 for atoms placed singly); ``info["provenance"]`` follows the package
        conventions (``source`` ``"glass:<composition>"`` and one ``random_glass`` generator).

    Raises
    ------
    UserInputError
        Bad composition, density, size, mode or distances, a composition the molecular
        mode cannot build, or a packing that cannot be freed of overlaps: at once when
        hard spheres of the minimum distances would exceed random close packing, otherwise
        after ``max_sweeps`` sweeps.
    """
    from ase import Atoms
    from ase.data import atomic_masses, atomic_numbers

    comp = parse_composition(composition) if isinstance(composition, str) else composition
    if units not in ("molecular", "atoms"):
        raise UserInputError(f"units must be 'molecular' or 'atoms', got {units!r}")
    if not isinstance(n_atoms, (int, np.integer)) or n_atoms < 1:
        raise UserInputError(f"n_atoms must be a positive integer, got {n_atoms!r}")
    per_unit = comp.atoms_per_formula_unit
    n_fu = max(1, round(n_atoms / per_unit))
    if n_fu * per_unit > 2 * n_atoms:
        raise UserInputError(f"{comp.text} needs at least {per_unit} atoms for an exact "
                             f"stoichiometry, far more than n_atoms={n_atoms}; raise n_atoms "
                             f"or use nearby simple mole parts, e.g. "
                             f"'{_simple_ratio(comp)}'")
    try:
        density = estimate_density(comp) if density_g_cm3 is None else float(density_g_cm3)
    except (TypeError, ValueError):
        density = math.nan
    if not density > 0 or math.isinf(density):
        raise UserInputError(f"density_g_cm3 must be a positive number (g/cm^3), "
                             f"got {density_g_cm3!r}")
    counts = {el: n * n_fu for el, n in comp.element_counts.items()}
    mass = sum(atomic_masses[atomic_numbers[el]] * n for el, n in counts.items())
    box = (mass / _AVOGADRO / density * 1e24) ** (1 / 3)
    elements = sorted(counts)
    table = _distance_table(elements, min_distances)
    rng = np.random.default_rng(seed)
    groups, singles = _network_units(counts) if units == "molecular" else ([], counts)
    packer = Packer(box, elements, table)
    advice = ("lower density_g_cm3 or the min_distances"
              + (", or try units='atoms'" if units == "molecular" else ""))
    if box <= packer.limits.max():
        raise UserInputError(f"a {box:.2f} Å box ({sum(counts.values())} atoms) is smaller than "
                             f"the largest minimum distance; raise n_atoms")
    if too_dense(packer, counts):
        raise UserInputError(f"{comp.text} at {density:.3f} g/cm^3 is too dense for the minimum "
                             f"distances (as hard spheres they would fill more than random "
                             f"close packing); {advice}")
    order = sorted(singles, key=lambda el: (FORMAL_CHARGES[el] > 0, el))  # anions first
    if not pack(packer, groups, [(el, singles[el]) for el in order], rng, sweeps=max_sweeps):
        raise UserInputError(f"could not remove all overlaps in the {comp.text} box at "
                             f"{density:.3f} g/cm^3 within {max_sweeps} sweeps; {advice}")
    atoms = Atoms([elements[k] for k in packer.kinds], positions=packer.positions % box,
                  cell=[box] * 3, pbc=True)
    atoms.arrays["glass_unit"] = np.concatenate(
        [np.full(len(idx), g if len(idx) > 1 else -1) for g, idx in enumerate(packer.groups)])
    params = {"composition": comp.text, "n_atoms": int(n_atoms), "density_g_cm3": density,
              "units": units, "max_sweeps": int(max_sweeps),
              "min_distances": {f"{a}-{b}": d for (a, b), d in sorted(table.items())}}
    atoms.info["provenance"] = {"source": f"glass:{comp.text}", "generators": [
        {"name": "random_glass", "params": params, "seed": int(seed)}]}
    return atoms
