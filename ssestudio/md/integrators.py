"""Registry of MD integrators (ensembles), each an ASE dynamics object built from a config.

An integrator factory takes the atoms (with their calculator attached), the
:class:`~ssestudio.md.runner.MDConfig` and a seeded random generator, and returns an
ASE :class:`~ase.md.md.MolecularDynamics`; the runner owns the loop, I/O and checks.
Units are converted here, once: ``timestep_fs`` to ASE time, ``friction_per_fs`` to
inverse ASE time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ssestudio.core.errors import UserInputError
from ssestudio.core.units import FS

if TYPE_CHECKING:
    import numpy as np
    from ase import Atoms
    from ase.md.md import MolecularDynamics

    from ssestudio.md.runner import MDConfig

IntegratorFactory = Callable[["Atoms", "MDConfig", "np.random.Generator"], "MolecularDynamics"]

_INTEGRATORS: dict[str, IntegratorFactory] = {}


def register_integrator(name: str) -> Callable[[IntegratorFactory], IntegratorFactory]:
    """Decorator registering ``factory(atoms, config, rng) -> MolecularDynamics`` as ``name``."""
    def decorator(factory: IntegratorFactory) -> IntegratorFactory:
        _INTEGRATORS[name] = factory
        return factory
    return decorator


def available_ensembles() -> tuple[str, ...]:
    """Names accepted as ``MDConfig.ensemble``, sorted."""
    return tuple(sorted(_INTEGRATORS))


def check_ensemble(name: str) -> str:
    """Return ``name`` if registered, else raise :class:`UserInputError` listing the choices."""
    if name not in _INTEGRATORS:
        raise UserInputError(f"unknown ensemble {name!r}; choose one of "
                             f"{', '.join(available_ensembles())}")
    return name


def make_integrator(atoms: "Atoms", config: "MDConfig",
                    rng: "np.random.Generator") -> "MolecularDynamics":
    """Build the dynamics object of ``config.ensemble`` for ``atoms``."""
    return _INTEGRATORS[check_ensemble(config.ensemble)](atoms, config, rng)


@register_integrator("nve")
def velocity_verlet(atoms: "Atoms", config: "MDConfig",
                    rng: "np.random.Generator") -> "MolecularDynamics":
    """Microcanonical velocity Verlet [1]_ with time step ``config.timestep_fs``.

    References
    ----------
    .. [1] W. C. Swope, H. C. Andersen, P. H. Berens, K. R. Wilson, J. Chem. Phys. 76,
       637 (1982), doi:10.1063/1.442716
    """
    from ase.md.verlet import VelocityVerlet

    return VelocityVerlet(atoms, timestep=config.timestep_fs * FS)


@register_integrator("nvt-langevin")
def langevin(atoms: "Atoms", config: "MDConfig",
             rng: "np.random.Generator") -> "MolecularDynamics":
    """Langevin thermostat (ASE's integrator after [1]_) at ``config.temperature_K``.

    The friction ``gamma`` is given per fs (``friction_per_fs``; 0.01 fs^-1 = 10 ps^-1,
    a relaxation time 1/gamma of 100 fs) and passed to ASE in inverse ASE time units,
    ``gamma_ase = friction_per_fs / ase.units.fs``. The centre of mass is held by the
    runner's :class:`~ase.constraints.FixCom` (ASE's ``fixcm`` is deprecated).

    References
    ----------
    .. [1] E. Vanden-Eijnden, G. Ciccotti, Chem. Phys. Lett. 429, 310 (2006),
       doi:10.1016/j.cplett.2006.07.086
    """
    from ase.md.langevin import Langevin

    return Langevin(atoms, timestep=config.timestep_fs * FS,
                    temperature_K=config.temperature_K,
                    friction=config.friction_per_fs / FS, fixcm=False, rng=rng)
