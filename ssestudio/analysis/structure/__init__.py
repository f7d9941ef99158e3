"""Structure analysis of crystals, glasses and MD trajectories, one module per concern.

* :mod:`~.frames`: any input (``ase.Atoms``, list of them, Trajectory, file) as selected
  frames (``start:stop:stride``), read in chunks;
* :mod:`~.cell`: density (g/cm^3) and lattice parameters per frame, vs time/temperature;
* :mod:`~.rdf` and :mod:`~.shells`: partial g_ab(r), running coordination n_ab(r), first
  peak, first minimum and coordination number;
* :mod:`~.angles`: bond-angle distributions of triplets (S-P-S, P-S-P, ...);
* :mod:`~.scattering` and :mod:`~.structure_factor`: Faber-Ziman S(q) with neutron
  (Sears 1992) or X-ray (Waasmaier-Kirfel) weights, Lorch window, real-space g_w(r), G(r);
* :mod:`~.xrd`: powder XRD from Bragg reflections (crystals) or from the RDFs (glasses);
* :mod:`~.network` and :mod:`~.speciation`: former-anion network, Q^n, units (PS4, P2S7,
  P2S6, chains), bridging/non-bridging/free anions;
* :mod:`~.analyze`: the facade :func:`analyze_structure`.

All work for any (triclinic) cell and for cells that change between frames (NPT).
Units: Å, degrees, g/cm^3, 1/Å (``q_inv_A``), fm (neutron scattering lengths).
"""

from ssestudio.analysis.structure.analyze import (
    StructureAnalysis,
    StructureConfig,
    analyze_structure,
)
from ssestudio.analysis.structure.angles import AngleDistribution, compute_bond_angles
from ssestudio.analysis.structure.cell import (
    CellSeries,
    cell_volume_A3,
    compute_cell_series,
    density_g_cm3,
    lattice_parameters,
    perpendicular_widths_A,
)
from ssestudio.analysis.structure.frames import FrameSelection, FrameSet, open_frames
from ssestudio.analysis.structure.network import NetworkFrame, classify_network
from ssestudio.analysis.structure.pairs import (
    default_bond_cutoff_A,
    default_homopolar_cutoff_A,
)
from ssestudio.analysis.structure.rdf import RDFResult, compute_rdf, max_rdf_radius_A
from ssestudio.analysis.structure.scattering import (
    NEUTRON_SCATTERING_LENGTHS_FM,
    neutron_scattering_length_fm,
    xray_form_factor,
)
from ssestudio.analysis.structure.shells import (
    Shell,
    find_shells,
    first_peak_and_minimum,
)
from ssestudio.analysis.structure.speciation import (
    Speciation,
    compute_speciation,
    guess_network,
)
from ssestudio.analysis.structure.structure_factor import (
    StructureFactor,
    compute_structure_factor,
)
from ssestudio.analysis.structure.xrd import (
    CU_KALPHA1_A,
    XRDPattern,
    XRDSettings,
    simulate_xrd,
    xrd_from_rdf,
)

__all__ = [
    "CU_KALPHA1_A",
    "NEUTRON_SCATTERING_LENGTHS_FM",
    "AngleDistribution",
    "CellSeries",
    "FrameSelection",
    "FrameSet",
    "NetworkFrame",
    "RDFResult",
    "Shell",
    "Speciation",
    "StructureAnalysis",
    "StructureConfig",
    "StructureFactor",
    "XRDPattern",
    "XRDSettings",
    "analyze_structure",
    "cell_volume_A3",
    "classify_network",
    "compute_bond_angles",
    "compute_cell_series",
    "compute_rdf",
    "compute_speciation",
    "compute_structure_factor",
    "default_bond_cutoff_A",
    "default_homopolar_cutoff_A",
    "density_g_cm3",
    "find_shells",
    "first_peak_and_minimum",
    "guess_network",
    "lattice_parameters",
    "max_rdf_radius_A",
    "neutron_scattering_length_fm",
    "open_frames",
    "perpendicular_widths_A",
    "simulate_xrd",
    "xray_form_factor",
    "xrd_from_rdf",
]
