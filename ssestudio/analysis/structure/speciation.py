"""Network speciation of thiophosphate-like glasses and crystals, averaged over frames.

Generalised to any former(s)/anion pair: P/S (default), Si/S, Ge/S, Sn/S, P/O, Si/O,
B/O, B/H, ... (the bond graph and labels are described in
:mod:`~ssestudio.analysis.structure.network`). Reported per frame and on average:

* Q^n distribution: fraction of formers with ``n`` bridging anions (PS4 3- -> Q0,
  P2S7 4- -> two Q1, chains -> Q2, ...); former-former bonds (P2S6 4-) are counted
  separately and show in the unit labels;
* unit fractions by former atom (fraction of P in PS4, in P2S7, ...) and by unit;
* anions: free (bonded to no former, e.g. S2- of Li2S), non-bridging, bridging;
* former coordination numbers, former-former bonds, edge-sharing former pairs.

Crystal checks: gamma- and beta-Li3PS4 are 100 % PS4 (Q0); Li7P3S11 has 2/3 of P in
P2S7 (Q1), 1/3 in PS4 and 1 bridging S in 11; Li2S has only free S. For measured unit
fractions of Li2S-P2S5 glasses (Raman, 31P NMR) see e.g. C. Dietrich et al., J. Mater.
Chem. A 5, 18111 (2017), doi:10.1039/C7TA06067J.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ssestudio.analysis.structure.frames import Source, open_frames
from ssestudio.analysis.structure.network import NetworkFrame, classify_network
from ssestudio.analysis.structure.pairs import (
    check_element,
    default_bond_cutoff_A,
    default_homopolar_cutoff_A,
    parse_pair,
)
from ssestudio.core.errors import UserInputError

#: Elements treated as network formers by :func:`guess_network`, in order of preference.
FORMERS = ("P", "Si", "Ge", "Sn", "As", "Sb", "Al", "B")
#: Anions tried by :func:`guess_network`, in order; H only with B (closo-borates).
ANIONS = ("S", "Se", "O")
_ANION_CLASSES = ("free", "non_bridging", "bridging")


def guess_network(symbols: Sequence[str]) -> tuple[tuple[str, ...], str] | None:
    """Default ``(formers, anion)`` for a composition, or None when there is no network.

    The anion is the first of S, Se, O present (H when only B is a former, as in
    Li2B12H12); the formers are the elements of :data:`FORMERS` present (B only with O or
    H). Examples: Li3PS4 -> (("P",), "S"); Li10GeP2S12 -> (("P", "Ge"), "S");
    Li3PO4 -> (("P",), "O"); Li2B12H12 -> (("B",), "H"); Li2S -> None.
    """
    present = set(symbols)
    anion = next((a for a in ANIONS if a in present), None)
    if anion is None and "B" in present and "H" in present:
        return ("B",), "H"
    if anion is None:
        return None
    formers = tuple(f for f in FORMERS if f in present and (f != "B" or anion == "O"))
    return (formers, anion) if formers else None


@dataclass(frozen=True, eq=False)
class Speciation:
    """Speciation of the former-anion network, averaged over frames.

    Attributes
    ----------
    formers : tuple of str
        Former elements.
    anion : str
        Anion element.
    bond_cutoffs_A : dict
        Former -> former-anion bond cutoff, Å.
    homopolar_cutoffs_A : dict
        ``"P-P"`` -> former-former bond cutoff, Å.
    n_frames, n_formers, n_anions : int
        Frames analysed; formers and anions per frame.
    qn_fraction : dict
        ``"Q0"`` ... -> fraction of formers with that many bridging anions.
    qn_per_frame : dict
        ``"Q0"`` ... -> ndarray (n_frames,) of the same per frame.
    unit_fraction_by_former : dict
        Unit label -> fraction of formers in units of that kind.
    unit_fraction_by_unit : dict
        Unit label -> fraction of units.
    units_per_frame : dict
        Unit label -> mean number of such units per frame.
    anion_fraction : dict
        ``"free"``, ``"non_bridging"``, ``"bridging"`` -> fraction of anions.
    free_anions_per_frame : float
        Mean number of free anions per frame.
    former_coordination : dict
        Number of anions bonded (``"4"``) -> fraction of formers.
    homopolar_bonds_per_frame, edge_sharing_pairs_per_frame : float
        Mean former-former bonds and edge-sharing former pairs per frame.
    last : NetworkFrame or None
        Per-atom classification of the last frame analysed (None without formers).
    warnings : tuple of str
        Notes (e.g. a former element absent from the structure).
    """

    formers: tuple[str, ...]
    anion: str
    bond_cutoffs_A: dict
    homopolar_cutoffs_A: dict
    n_frames: int
    n_formers: int
    n_anions: int
    qn_fraction: dict
    qn_per_frame: dict
    unit_fraction_by_former: dict
    unit_fraction_by_unit: dict
    units_per_frame: dict
    anion_fraction: dict
    free_anions_per_frame: float
    former_coordination: dict
    homopolar_bonds_per_frame: float
    edge_sharing_pairs_per_frame: float
    last: NetworkFrame | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready summary (and the per-frame Q^n when ``curves``)."""
        out = {k: getattr(self, k) for k in (
            "formers", "anion", "bond_cutoffs_A", "homopolar_cutoffs_A", "n_frames", "n_formers",
            "n_anions", "qn_fraction", "unit_fraction_by_former", "unit_fraction_by_unit",
            "units_per_frame", "anion_fraction", "free_anions_per_frame", "former_coordination",
            "homopolar_bonds_per_frame", "edge_sharing_pairs_per_frame")}
        out["formers"] = list(self.formers)
        out["warnings"] = list(self.warnings)
        if curves:
            out["qn_per_frame"] = {k: v.tolist() for k, v in self.qn_per_frame.items()}
        return out


def compute_speciation(source: Source, *, former: str | Sequence[str] = "P", anion: str = "S",
                       cutoff_A: float | Mapping[str, float] | None = None,
                       former_former_cutoff_A: float | Mapping | None = None,
                       start: int | None = None, stop: int | None = None,
                       stride: int | None = None) -> Speciation:
    """Q^n distribution, unit fractions and anion classes of a former-anion network.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        See :func:`~ssestudio.analysis.structure.frames.open_frames`.
    former : str or sequence of str
        Network former element(s), e.g. ``"P"`` or ``("P", "Ge")``.
    anion : str
        Anion element, e.g. ``"S"``.
    cutoff_A : float or mapping, optional
        Former-anion bond cutoff, Å, for all formers or per former (``{"P": 2.5}``);
        default ``1.18 (r_cov,F + r_cov,A)`` (P-S 2.50 Å, P-O 2.04 Å, Si-O 2.09 Å).
    former_former_cutoff_A : float or mapping, optional
        Former-former bond cutoff, Å, for all pairs or per pair (``{"P-P": 2.4}``);
        default ``1.12 (r_cov + r_cov)`` (P-P 2.40 Å).
    start, stop, stride : int, optional
        Frame selection (slice semantics).

    Returns
    -------
    Speciation

    Raises
    ------
    UserInputError
        An unknown element, an anion not in the structure, former == anion, bad cutoffs,
        an empty frame selection.
    """
    formers = (former,) if isinstance(former, str) else tuple(former)
    if not formers:
        raise UserInputError("give at least one network former, e.g. former='P'")
    for el in (*formers, anion):
        check_element(el)
    if anion in formers:
        raise UserInputError(f"{anion} cannot be both former and anion; e.g. former='P', anion='S'")
    bond = _per_former(formers, anion, cutoff_A)
    homo = _homopolar(formers, former_former_cutoff_A)
    with open_frames(source, start=start, stop=stop, stride=stride) as frames:
        if anion not in frames.symbols:
            raise UserInputError(f"anion {anion} is not in this structure ({', '.join(frames.species)}); "
                                 "pass anion= one of them (e.g. anion='S')")
        notes = [f"former {f} is not in this structure ({', '.join(frames.species)})"
                 for f in formers if f not in frames.symbols]
        per_frame = [classify_network(frames.symbols, pos, cell, frames.pbc, formers=formers,
                                      anion=anion, bond_cutoffs_A=bond, homopolar_cutoffs_A=homo)
                     for _, pos, cell in frames.frames()]
    return _aggregate(per_frame, formers, anion, bond, homo, notes)


def _per_former(formers, anion, cutoff_A) -> dict[str, float]:
    out = {}
    for f in formers:
        value = cutoff_A.get(f) if isinstance(cutoff_A, Mapping) else cutoff_A
        out[f] = default_bond_cutoff_A(f, anion) if value is None else _positive(value, f"{f}-{anion}")
    return out


def _homopolar(formers, cutoff) -> dict[tuple[str, str], float]:
    given = {}
    if isinstance(cutoff, Mapping):
        for key, value in cutoff.items():
            a, b = parse_pair(key)
            given[(a, b)] = given[(b, a)] = _positive(value, f"{a}-{b}")
    out = {}
    for a in formers:
        for b in formers:
            if isinstance(cutoff, (int, float)):
                out[(a, b)] = _positive(cutoff, "former_former_cutoff_A")
            else:
                out[(a, b)] = given.get((a, b), default_homopolar_cutoff_A(a, b))
    return out


def _positive(value, what) -> float:
    if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
        raise UserInputError(f"the {what} cutoff must be a positive distance in Å, got {value!r}")
    return float(value)


def _aggregate(per_frame: list[NetworkFrame], formers, anion, bond, homo, notes) -> Speciation:
    n = len(per_frame)
    F = len(per_frame[0].former_indices)
    A = len(per_frame[0].anion_indices)
    max_q = max([4, *(int(fr.former_bridging.max()) for fr in per_frame if F)])
    qn = np.array([np.bincount(fr.former_bridging, minlength=max_q + 1) for fr in per_frame],
                  dtype=float) / max(F, 1)
    by_former, units = Counter(), Counter()
    coordination = Counter()
    anions = np.zeros(3)
    for fr in per_frame:
        labels = np.array(fr.unit_labels, dtype=object)
        by_former.update(labels[fr.former_unit].tolist() if F else [])
        units.update(fr.unit_labels)
        coordination.update(fr.former_anions.tolist())
        anions += np.bincount(np.minimum(fr.anion_formers, 2), minlength=3)
    n_units = sum(units.values())
    return Speciation(
        formers=formers, anion=anion, bond_cutoffs_A=dict(bond),
        homopolar_cutoffs_A={f"{a}-{b}": v for (a, b), v in homo.items() if a <= b},
        n_frames=n, n_formers=F, n_anions=A,
        qn_fraction={f"Q{k}": float(qn[:, k].mean()) for k in range(max_q + 1)},
        qn_per_frame={f"Q{k}": qn[:, k] for k in range(max_q + 1)},
        unit_fraction_by_former=_sorted({k: v / (n * F) for k, v in by_former.items()}),
        unit_fraction_by_unit=_sorted({k: v / n_units for k, v in units.items()}),
        units_per_frame=_sorted({k: v / n for k, v in units.items()}),
        anion_fraction=dict(zip(_ANION_CLASSES, (anions / (n * A)).tolist())),
        free_anions_per_frame=float(anions[0] / n),
        former_coordination={str(k): v / (n * F) for k, v in sorted(coordination.items())},
        homopolar_bonds_per_frame=float(np.mean([fr.n_homopolar_bonds for fr in per_frame])),
        edge_sharing_pairs_per_frame=float(np.mean([fr.n_edge_sharing_pairs for fr in per_frame])),
        last=per_frame[-1] if F else None, warnings=tuple(notes))


def _sorted(d: dict) -> dict:
    return dict(sorted(d.items(), key=lambda kv: -kv[1]))
