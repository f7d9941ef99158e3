"""One call from a structure or trajectory to all structure analyses: :func:`analyze_structure`.

A thin facade over the layers, each usable alone:

1. :func:`~ssestudio.analysis.structure.cell.compute_cell_series`: density and lattice
   parameters per frame;
2. :func:`~ssestudio.analysis.structure.rdf.compute_rdf` and
   :func:`~ssestudio.analysis.structure.shells.find_shells`: partial RDFs, first peaks and
   minima, coordination numbers;
3. :func:`~ssestudio.analysis.structure.speciation.compute_speciation`: network speciation
   of the former(s)/anion guessed from the composition (P/S, Si/S, Ge/S, P/O, B/H, ...);
4. :func:`~ssestudio.analysis.structure.angles.compute_bond_angles`: anion-former-anion and
   former-anion-former angles with the speciation's bond cutoffs;
5. :func:`~ssestudio.analysis.structure.structure_factor.compute_structure_factor`:
   neutron- and X-ray-weighted S(q);
6. :mod:`~ssestudio.analysis.structure.xrd`: the powder pattern (Bragg reflections for one
   frame, Debye scattering from the RDFs for several).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from ssestudio.analysis.structure.angles import AngleDistribution, compute_bond_angles
from ssestudio.analysis.structure.cell import (
    CellSeries,
    compute_cell_series,
    perpendicular_widths_A,
)
from ssestudio.analysis.structure.frames import FrameSet, Source, open_frames
from ssestudio.analysis.structure.rdf import (
    DEFAULT_RMAX_A,
    RDFResult,
    max_rdf_radius_A,
    rdf_of_frames,
)
from ssestudio.analysis.structure.scattering import NEUTRON_SCATTERING_LENGTHS_FM
from ssestudio.analysis.structure.shells import Shell, find_shells
from ssestudio.analysis.structure.speciation import (
    Speciation,
    compute_speciation,
    guess_network,
)
from ssestudio.analysis.structure.structure_factor import (
    StructureFactor,
    compute_structure_factor,
    default_q_grid,
)
from ssestudio.analysis.structure.xrd import (
    MAX_PHASES,
    XRDPattern,
    XRDSettings,
    simulate_xrd,
    xrd_from_rdf,
)
from ssestudio.core.errors import UserInputError
from ssestudio.core.jsonsafe import json_safe as _json_safe


@dataclass(frozen=True)
class StructureConfig:
    """Settings of :func:`analyze_structure` (all optional).

    Attributes
    ----------
    start, stop, stride : int or None
        Frame selection (slice semantics).
    format : str or None
        :mod:`ssestudio.io` reader of a trajectory file (detected otherwise).
    rmax_A : float or None
        RDF range, Å; default ``min(10 Å, half the smallest perpendicular cell width)``.
    auto_supercell : bool
        For a single structure whose cell limits the default range, compute the RDFs
        (and S(q)) of a supercell that reaches 10 Å.
    dr_A : float
        RDF bin width, Å.
    smoothing_A : float
        Gaussian smoothing of g before locating peaks and minima, Å.
    coordination_cutoffs_A : mapping or None
        Coordination cutoffs by pair (``{"Li-S": 3.0}``) instead of the first minimum.
    former : str, tuple of str or None
        Network former(s); guessed from the composition when None.
    anion : str or None
        Network anion; guessed when None.
    bond_cutoff_A : float, mapping or None
        Former-anion bond cutoff(s), Å (default P-S 2.50 Å; see compute_speciation).
    former_former_cutoff_A : float, mapping or None
        Former-former bond cutoff(s), Å (default P-P 2.40 Å).
    angle_triplets : tuple of str or None
        Bond angles to compute; default anion-former-anion and former-anion-former
        for each former (``"S-P-S"``, ``"P-S-P"``).
    angle_cutoffs_A : float, mapping or None
        Bond cutoffs of the angles; default the former-anion bond cutoffs.
    angle_bin_deg : float
        Angle histogram bin, degrees.
    q_max_inv_A, n_q : float, int
        S(q) grid: ``n_q`` points up to ``q_max_inv_A``, 1/Å.
    window : {"lorch", "none"}
        Modification function of the S(q) transform.
    xrd : XRDSettings
        Wavelength (Cu K-alpha1), two-theta range, profile.
    xrd_method : {"auto", "bragg", "debye", "none"}
        Powder pattern from Bragg reflections, from the RDFs (Debye), or none; ``"auto"``:
        Bragg for one frame, Debye for several.
    temperatures_K : array-like, "kinetic" or None
        Temperature per frame for density/lattice against temperature.
    speciation : bool
        Whether to run the network speciation (when a former/anion pair exists).
    """

    start: int | None = None
    stop: int | None = None
    stride: int | None = None
    format: str | None = None
    rmax_A: float | None = None
    auto_supercell: bool = True
    dr_A: float = 0.02
    smoothing_A: float = 0.05
    coordination_cutoffs_A: Mapping | None = None
    former: str | tuple[str, ...] | None = None
    anion: str | None = None
    bond_cutoff_A: float | Mapping | None = None
    former_former_cutoff_A: float | Mapping | None = None
    angle_triplets: tuple[str, ...] | None = None
    angle_cutoffs_A: float | Mapping | None = None
    angle_bin_deg: float = 1.0
    q_max_inv_A: float = 15.0
    n_q: int = 750
    window: Literal["lorch", "none"] = "lorch"
    xrd: XRDSettings = field(default_factory=XRDSettings)
    xrd_method: Literal["auto", "bragg", "debye", "none"] = "auto"
    temperatures_K: object = None
    speciation: bool = True


@dataclass(frozen=True, eq=False)
class StructureAnalysis:
    """Everything :func:`analyze_structure` found.

    Attributes
    ----------
    source : str
        Where the frames came from.
    formula : str
        Hill formula of the cell.
    n_atoms : int
        Atoms per cell.
    frames : ndarray of int
        Trajectory frame indices analysed.
    cell : CellSeries
        Density and lattice parameters per frame.
    rdf : RDFResult
        Partial RDFs and running coordination numbers.
    shells : dict
        ``"A-B"`` -> :class:`Shell` (B around A) for every ordered pair.
    angles : dict
        ``"A-B-C"`` -> :class:`AngleDistribution`.
    speciation : Speciation or None
        Network speciation (None without a former/anion pair).
    neutron : StructureFactor or None
        Neutron-weighted S(q) (None when an element has no scattering length in the table).
    xray : StructureFactor
        X-ray-weighted S(q).
    xrd : XRDPattern or None
        Powder pattern.
    config : StructureConfig
        Settings used.
    warnings : tuple of str
        Notes from the layers.
    """

    source: str
    formula: str
    n_atoms: int
    frames: np.ndarray
    cell: CellSeries
    rdf: RDFResult
    shells: dict
    angles: dict
    speciation: Speciation | None
    neutron: StructureFactor | None
    xray: StructureFactor
    xrd: XRDPattern | None
    config: StructureConfig
    warnings: tuple[str, ...] = ()

    @property
    def rdf_peaks(self) -> dict:
        """``"A-B"`` (unordered, species order) -> first peak and minimum of g_AB."""
        out = {}
        for a, b in self.rdf.pairs:
            s: Shell = self.shells[f"{a}-{b}"]
            out[f"{a}-{b}"] = {"first_peak_A": s.first_peak_A, "first_peak_g": s.first_peak_g,
                               "first_min_A": s.first_min_A, "first_min_g": s.first_min_g}
        return out

    @property
    def coordination(self) -> dict:
        """``"A-B"`` -> mean number of B within the cutoff of an A, with the cutoff."""
        return {k: {"n": s.coordination, "cutoff_A": s.cutoff_A, "cutoff_given": s.cutoff_given}
                for k, s in self.shells.items()}

    def to_dict(self, *, curves: bool = True) -> dict:
        """JSON-ready result (keys of ``ssestudio structure --json``); with the RDF, S(q),
        angle and XRD curves when ``curves``. NaN and inf become None."""
        cell = self.cell.to_dict(curves=curves)
        out = {
            "source": self.source, "formula": self.formula, "n_atoms": self.n_atoms,
            "n_frames": len(self.frames),
            "frames": {"first": int(self.frames[0]), "last": int(self.frames[-1]),
                       "start": self.config.start, "stop": self.config.stop,
                       "stride": self.config.stride},
            "density_g_cm3": cell.pop("density_g_cm3"),
            "density_std_g_cm3": cell.pop("density_std_g_cm3"),
            "lattice": cell.pop("lattice"), "lattice_std": cell.pop("lattice_std"),
            "number_density_A3": cell.pop("number_density_A3"),
            "rmax_A": self.rdf.rmax_A, "dr_A": self.rdf.dr_A,
            "rdf_peaks": self.rdf_peaks, "coordination": self.coordination,
            "speciation": None if self.speciation is None else self.speciation.to_dict(curves=curves),
            "angles": {k: a.to_dict(curves=curves) for k, a in self.angles.items()},
            "structure_factor": {
                "neutron": None if self.neutron is None else self.neutron.to_dict(curves=curves),
                "xray": self.xray.to_dict(curves=curves)},
            "xrd": None if self.xrd is None else self.xrd.to_dict(curves=curves),
            "warnings": list(self.warnings),
        }
        if curves:
            out["per_frame"] = cell.get("per_frame")
            out["versus_temperature"] = cell.get("versus_temperature")
            out["rdf"] = self.rdf.to_dict()
        return _json_safe(out)


def analyze_structure(source: Source, config: StructureConfig | None = None, **options
                      ) -> StructureAnalysis:
    """Density, lattice, RDFs, coordination, bond angles, speciation, S(q) and XRD at once.

    Parameters
    ----------
    source : ase.Atoms, sequence of Atoms, Trajectory, FrameSet or path
        One structure or a trajectory (averaged over the selected frames); see
        :func:`~ssestudio.analysis.structure.frames.open_frames`.
    config : StructureConfig, optional
        Settings; ``**options`` replace single fields (``stride=10, rmax_A=8``).

    Returns
    -------
    StructureAnalysis

    Raises
    ------
    UserInputError
        Bad settings (unknown field, rmax beyond the cell, unknown element, empty frame
        selection), or a non-periodic structure.
    """
    try:
        cfg = replace(config or StructureConfig(), **options)
    except TypeError as exc:
        raise UserInputError(f"{exc}; see StructureConfig for the options") from None
    notes: list[str] = []
    with open_frames(source, start=cfg.start, stop=cfg.stop, stride=cfg.stride,
                     format=cfg.format) as frames:
        frames.require_periodic("structure analysis")
        cell = compute_cell_series(frames, temperatures_K=cfg.temperatures_K)
        rdf = _rdf(frames, cfg, notes)
        shells = find_shells(rdf, cutoffs_A=cfg.coordination_cutoffs_A,
                             smoothing_A=cfg.smoothing_A)
        speciation = _speciation(frames, cfg, notes)
        angles = _angles(frames, cfg, speciation)
        neutron, xray = _structure_factors(rdf, cfg, notes)
        xrd = _xrd(frames, rdf, cfg, notes)
        return StructureAnalysis(
            source=frames.label, formula=frames.trajectory.formula, n_atoms=frames.n_atoms,
            frames=frames.indices.copy(), cell=cell, rdf=rdf, shells=shells, angles=angles,
            speciation=speciation, neutron=neutron, xray=xray, xrd=xrd, config=cfg,
            warnings=tuple(dict.fromkeys(notes)))


def _rdf(frames: FrameSet, cfg: StructureConfig, notes: list) -> RDFResult:
    """RDFs; a single structure whose cell is too small for the default range is repeated
    into a supercell (same g(r), longer range)."""
    limit = max_rdf_radius_A(frames.cells())
    if cfg.rmax_A is not None or limit >= DEFAULT_RMAX_A or not cfg.auto_supercell:
        if cfg.rmax_A is None and limit < DEFAULT_RMAX_A:
            notes.append(f"RDF range limited to {limit:.2f} Å by the cell (half its smallest "
                         "width); use a larger supercell for a longer range and finer S(q)")
        return rdf_of_frames(frames, rmax_A=cfg.rmax_A, dr_A=cfg.dr_A)
    if frames.n_frames > 1:
        notes.append(f"RDF range limited to {limit:.2f} Å by the cell (half its smallest width); "
                     "simulate a larger cell for a longer range and finer S(q)")
        return rdf_of_frames(frames, rmax_A=None, dr_A=cfg.dr_A)
    atoms = frames.trajectory.to_atoms(int(frames.indices[0]))
    widths = perpendicular_widths_A(atoms.cell[:])
    reps = tuple(int(np.ceil(2 * DEFAULT_RMAX_A / w - 1e-9)) for w in widths)
    notes.append(f"RDFs and S(q) of a {reps[0]}x{reps[1]}x{reps[2]} supercell (the cell allows "
                 f"only {limit:.2f} Å)")
    with open_frames(atoms.repeat(reps)) as big:
        return rdf_of_frames(big, rmax_A=None, dr_A=cfg.dr_A)


def _speciation(frames: FrameSet, cfg: StructureConfig, notes: list) -> Speciation | None:
    if not cfg.speciation:
        return None
    guess = guess_network(frames.symbols)
    former = cfg.former if cfg.former is not None else (guess[0] if guess else None)
    anion = cfg.anion if cfg.anion is not None else (guess[1] if guess else None)
    if former is None or anion is None:
        notes.append("no network former/anion pair found (e.g. P/S, Si/S, P/O, B/H): no "
                     "speciation; pass former= and anion= to choose one")
        return None
    result = compute_speciation(frames, former=former, anion=anion, cutoff_A=cfg.bond_cutoff_A,
                                former_former_cutoff_A=cfg.former_former_cutoff_A)
    notes.extend(result.warnings)
    return result


def _angles(frames: FrameSet, cfg: StructureConfig, speciation: Speciation | None) -> dict:
    triplets = cfg.angle_triplets
    cutoffs = cfg.angle_cutoffs_A
    if triplets is None:
        if speciation is None:
            return {}
        present = [f for f in speciation.formers if f in frames.symbols]
        a = speciation.anion
        triplets = tuple(t for f in present for t in (f"{a}-{f}-{a}", f"{f}-{a}-{f}"))
        if cutoffs is None:
            cutoffs = {f"{f}-{a}": c for f, c in speciation.bond_cutoffs_A.items()}
    if not triplets:
        return {}
    result: dict[str, AngleDistribution] = compute_bond_angles(
        frames, triplets, cutoffs_A=cutoffs, bin_width_deg=cfg.angle_bin_deg)
    return result


def _structure_factors(rdf: RDFResult, cfg: StructureConfig, notes: list):
    q = default_q_grid(cfg.q_max_inv_A, cfg.n_q)
    neutron = None
    missing = [s for s in rdf.species if s not in NEUTRON_SCATTERING_LENGTHS_FM]
    if missing:
        notes.append(f"no neutron scattering length for {', '.join(missing)} in the table: "
                     "neutron S(q) not computed")
    else:
        try:
            neutron = compute_structure_factor(rdf, weighting="neutron", q_inv_A=q,
                                               window=cfg.window)
        except UserInputError as exc:
            notes.append(f"neutron S(q) not computed: {exc}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        xray = compute_structure_factor(rdf, weighting="xray", q_inv_A=q, window=cfg.window)
    notes.extend(str(w.message) for w in caught)
    return neutron, xray


def _xrd(frames: FrameSet, rdf: RDFResult, cfg: StructureConfig, notes: list) -> XRDPattern | None:
    method = cfg.xrd_method
    if method == "none":
        return None
    if method not in ("auto", "bragg", "debye"):
        raise UserInputError(f"xrd_method must be 'auto', 'bragg', 'debye' or 'none', got {method!r}")
    if method == "auto":
        method = "bragg" if frames.n_frames == 1 else "debye"
        if method == "bragg" and _bragg_cost(frames, cfg.xrd) > MAX_PHASES / 10:
            method = "debye"
            notes.append("XRD from the RDFs (Debye): the cell has too many reflections for a "
                         "quick Bragg pattern; pass xrd_method='bragg' to force it")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if method == "bragg":
            pattern = simulate_xrd(frames, cfg.xrd)
        else:
            pattern = xrd_from_rdf(rdf, cfg.xrd)
    notes.extend(str(w.message) for w in caught)
    return pattern


def _bragg_cost(frames: FrameSet, settings: XRDSettings) -> float:
    """Estimated reflections x atoms x frames of a Bragg pattern."""
    settings.check()
    q_hi = float(settings.q_of(np.array([settings.two_theta_max_deg]))[0])
    volume = float(abs(np.linalg.det(frames.cells()[0])))
    n_reflections = (4 / 3) * np.pi * q_hi ** 3 * volume / (2 * np.pi) ** 3
    return n_reflections * frames.n_atoms * frames.n_frames
