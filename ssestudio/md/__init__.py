"""Molecular dynamics: integrators by name, a runner writing a live native trajectory
with a thermo log and checkpoints, explosion checks, and composable protocols
(equilibrate, temperature ramps, melt-quench). The background jobs are in
:mod:`ssestudio.jobs.md`.

Example::

    from ssestudio.calculators import get_calculator
    from ssestudio.md import MDConfig, open_md_writer, run_md

    config = MDConfig(ensemble="nvt-bussi", temperature_K=600, timestep_fs=2,
                      n_steps=1000, write_interval=10, seed=1)
    with open_md_writer("md.h5", atoms, config) as writer:
        result = run_md(atoms, get_calculator("emt"), config, writer=writer)

    protocol = melt_quench_protocol(MELT_QUENCH_PRESETS["quick"].config)
    protocol.schedule()            # T(t) and P(t) before running, for plotting
    run_protocol(atoms, calc, protocol, outputs={"protocol": Output(writer=...)})
"""

from ssestudio.md.checkpoint import (Checkpoint, default_checkpoint_path, load_checkpoint,
                                     reopen_trajectory)
from ssestudio.md.checks import MDExplodedError, check_state, closest_pair
from ssestudio.md.engine import Output, ProtocolResult, run_protocol
from ssestudio.md.integrators import (Integrator, available_ensembles, get_integrator,
                                      make_integrator, register_integrator)
from ssestudio.md.meltquench import (MELT_QUENCH_PRESETS, MeltQuenchConfig, MeltQuenchPreset,
                                     melt_quench_protocol, melt_quench_schedule)
from ssestudio.md.protocol import (Protocol, ScheduleArrays, Stage, equilibrate, md_stage,
                                   temperature_ramp)
from ssestudio.md.runner import (THERMO_COLUMNS, MDConfig, MDResult, default_thermo_path,
                                 open_md_writer, run_md)
from ssestudio.md.thermo import read_thermo

__all__ = [
    "Checkpoint", "Integrator", "MDConfig", "MDExplodedError", "MDResult",
    "MELT_QUENCH_PRESETS", "MeltQuenchConfig", "MeltQuenchPreset", "Output", "Protocol",
    "ProtocolResult", "ScheduleArrays", "Stage", "THERMO_COLUMNS", "available_ensembles",
    "check_state", "closest_pair", "default_checkpoint_path", "default_thermo_path",
    "equilibrate", "get_integrator", "load_checkpoint", "make_integrator", "md_stage",
    "melt_quench_protocol", "melt_quench_schedule", "open_md_writer", "read_thermo",
    "register_integrator", "reopen_trajectory", "run_md", "run_protocol", "temperature_ramp",
]
