"""Trajectory I/O: one lazy, random-access :class:`Trajectory` interface over many formats.

Readers (VASP XDATCAR, extended XYZ, ASE ``.traj``, LAMMPS dumps, the native HDF5 file)
are registered by name; :func:`open_trajectory` picks one from the file name or content
and joins consecutive segments into one trajectory. The native format is written
incrementally and crash-safe by :class:`TrajectoryWriter`; :func:`convert_trajectory`
turns any trajectory into it. :mod:`~ssestudio.io.unwrap` removes periodic jumps, also
for changing cells.

Units: Å, eV, amu, fs for times (``times_fs``), velocities in Å per ASE time unit.
"""

from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo
from ssestudio.io.registry import (
    SegmentedTrajectory,
    available_formats,
    detect_format,
    open_trajectory,
    register_reader,
)
from ssestudio.io.convert import convert_trajectory, write_trajectory
from ssestudio.io.memory import AtomsTrajectory
from ssestudio.io.native import NativeTrajectory, TrajectoryWriter
from ssestudio.io.unwrap import Unwrapper, unwrap_positions, wrap_positions

__all__ = [
    "AtomsTrajectory",
    "Frame",
    "NativeTrajectory",
    "SegmentedTrajectory",
    "Trajectory",
    "TrajectoryInfo",
    "TrajectoryWriter",
    "Unwrapper",
    "available_formats",
    "convert_trajectory",
    "detect_format",
    "open_trajectory",
    "register_reader",
    "unwrap_positions",
    "wrap_positions",
    "write_trajectory",
]
