"""Molecular dynamics: integrators by name, a runner writing a live native trajectory,
explosion checks. The ``md`` background job is :mod:`ssestudio.jobs.md`.

Example::

    from ssestudio.calculators import get_calculator
    from ssestudio.md import MDConfig, open_md_writer, run_md

    config = MDConfig(ensemble="nvt-langevin", temperature_K=600, timestep_fs=2,
                      n_steps=1000, write_interval=10, seed=1)
    with open_md_writer("md.h5", atoms, config) as writer:
        result = run_md(atoms, get_calculator("emt"), config, writer=writer)
"""

from ssestudio.md.checks import MDExplodedError, check_state, closest_pair
from ssestudio.md.integrators import available_ensembles, make_integrator, register_integrator
from ssestudio.md.runner import (THERMO_COLUMNS, MDConfig, MDResult, default_thermo_path,
                                 open_md_writer, run_md)

__all__ = [
    "MDConfig", "MDExplodedError", "MDResult", "THERMO_COLUMNS", "available_ensembles",
    "check_state", "closest_pair", "default_thermo_path", "make_integrator", "open_md_writer",
    "register_integrator", "run_md",
]
