"""Unit conversions at the boundary between ASE internal units and named units.

ASE internal units are used everywhere in the core: energy eV, length Å, mass amu and
time in ASE's time unit (``ase.units.fs`` ASE time units per femtosecond). Values in other
units carry the unit in their name (``timestep_fs``, ``D_cm2_s``).
"""

from ase import units as _ase_units

#: ASE time units per femtosecond.
FS = _ase_units.fs
#: ASE time units per picosecond.
PS = 1000.0 * _ase_units.fs


def fs_to_ase_time(time_fs: float) -> float:
    """Convert a time in fs to ASE time units."""
    return time_fs * FS


def ase_time_to_fs(time_ase: float) -> float:
    """Convert a time in ASE time units to fs."""
    return time_ase / FS
