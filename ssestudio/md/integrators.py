"""Registry of MD integrators (ensembles), each an ASE dynamics object built from a config.

An integrator factory takes the atoms (with their calculator attached), the
:class:`~ssestudio.md.runner.MDConfig` and a seeded random generator, and returns an
ASE :class:`~ase.md.md.MolecularDynamics`; the runner owns the loop, I/O and checks.
Units are converted here, once: ``timestep_fs`` to ASE time, ``friction_per_fs`` to
inverse ASE time, ``pressure_GPa`` to eV/Å^3.

Each registered :class:`Integrator` also says what the runner may do with it: whether it
has a thermostat (a target temperature a schedule can change) and a barostat (a target
pressure; the cell changes), whether it accepts ASE constraints (the runner's
:class:`~ase.constraints.FixCom`), how to change its targets in place
(:attr:`Integrator.retarget`), which internal variables a checkpoint must keep
(:attr:`Integrator.state`) and its conserved energy, if any.

Registered: ``nve`` (velocity Verlet), ``nvt-langevin``, ``nvt-bussi`` (stochastic velocity
rescaling), ``nvt-nhc`` (Nosé-Hoover chain), ``npt-mtk-iso`` (Martyna-Tobias-Klein,
isotropic cell), ``npt-mtk-aniso`` (MTK, fully flexible cell) and ``npt-mtk-axes`` (MTK, the
three cell lengths independently, angles fixed). The MTK integrators give the correct
isothermal-isobaric volume fluctuations (unlike Berendsen-type barostats).

Degrees of freedom: with ``fix_com`` the centre of mass is at rest, so the kinetic
temperature counts ``3N - 3`` degrees of freedom (:func:`degrees_of_freedom`). The
integrators that accept constraints get a FixCom; the Nosé-Hoover chain and MTK
integrators conserve the zero total momentum themselves and are told the same count (ASE
builds them for ``3N``), so that their target is the temperature the runner reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ssestudio.core.errors import UserInputError
from ssestudio.core.units import FS

if TYPE_CHECKING:
    import numpy as np
    from ase import Atoms
    from ase.md.md import MolecularDynamics

    from ssestudio.md.runner import MDConfig

IntegratorFactory = Callable[["Atoms", "MDConfig", "np.random.Generator"], "MolecularDynamics"]
#: ``retarget(dyn, temperature_K, pressure_eV_A3)``: set new targets in place.
Retarget = Callable[["MolecularDynamics", float, float], None]


@dataclass(frozen=True)
class Integrator:
    """One registered ensemble.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"nvt-bussi"``.
    factory : callable
        ``factory(atoms, config, rng) -> MolecularDynamics``.
    thermostat : bool
        Samples a target temperature (``MDConfig.temperature_K``; ramps allowed).
    barostat : bool
        Samples a target pressure (``MDConfig.pressure_GPa``); the cell changes.
    constraints : bool
        Accepts ASE constraints (the runner adds a FixCom for ``fix_com``).
    retarget : callable or None
        ``retarget(dyn, temperature_K, pressure_eV_A3)`` changes the targets in place
        (None: the targets cannot change, e.g. NVE).
    state : tuple of str
        Dotted attribute paths of the integrator's own dynamical variables (thermostat
        and barostat coordinates and momenta); a checkpoint saves and restores them.
    conserved : callable or None
        ``conserved(dyn) -> float``: the conserved energy, eV (None when there is none).
    """

    name: str
    factory: IntegratorFactory
    thermostat: bool = True
    barostat: bool = False
    constraints: bool = True
    retarget: Retarget | None = None
    state: tuple[str, ...] = ()
    conserved: Callable[["MolecularDynamics"], float] | None = None


_INTEGRATORS: dict[str, Integrator] = {}


def register_integrator(name: str, *, thermostat: bool = True, barostat: bool = False,
                        constraints: bool = True, retarget: Retarget | None = None,
                        state: tuple[str, ...] = (),
                        conserved: Callable[["MolecularDynamics"], float] | None = None
                        ) -> Callable[[IntegratorFactory], IntegratorFactory]:
    """Decorator registering ``factory(atoms, config, rng) -> MolecularDynamics`` as ``name``.

    The keyword arguments are the :class:`Integrator` attributes (defaults: a thermostat
    whose target cannot change, no barostat, constraints accepted, no extra state).
    """
    def decorator(factory: IntegratorFactory) -> IntegratorFactory:
        _INTEGRATORS[name] = Integrator(name, factory, thermostat, barostat, constraints,
                                        retarget, tuple(state), conserved)
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


def get_integrator(name: str) -> Integrator:
    """The registered :class:`Integrator` ``name`` (UserInputError if unknown)."""
    return _INTEGRATORS[check_ensemble(name)]


def make_integrator(atoms: "Atoms", config: "MDConfig",
                    rng: "np.random.Generator") -> "MolecularDynamics":
    """Build the dynamics object of ``config.ensemble`` for ``atoms``.

    Raises
    ------
    UserInputError
        The ensemble cannot run this system as it is (constraints with an MTK barostat,
        zero kinetic energy with the Bussi thermostat).
    """
    entry = get_integrator(config.ensemble)
    if not entry.constraints and atoms.constraints:
        names = ", ".join(type(c).__name__ for c in atoms.constraints)
        raise UserInputError(f"ensemble {entry.name!r} does not support ASE constraints "
                             f"({names}); remove them or use an NVT ensemble")
    try:
        return entry.factory(atoms, config, rng)
    except ValueError as exc:  # e.g. Bussi refuses zero kinetic energy
        raise UserInputError(f"cannot start {entry.name!r}: {exc}") from exc


def degrees_of_freedom(atoms: "Atoms", config: "MDConfig") -> int:
    """Kinetic degrees of freedom of a run: ``3N`` minus those the constraints remove,
    and minus 3 for the centre of mass when ``config.fix_com`` holds it (also where the
    integrator conserves momentum itself instead of taking a FixCom)."""
    from ase.constraints import FixCom

    n = atoms.get_number_of_degrees_of_freedom()
    if config.fix_com and not any(isinstance(c, FixCom) for c in atoms.constraints):
        n -= 3
    return max(int(n), 1)


def get_path(obj: Any, path: str) -> Any:
    """``obj.a.b`` for ``path = "a.b"``."""
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def set_path(obj: Any, path: str, value: Any) -> None:
    """Set ``obj.a.b = value`` for ``path = "a.b"``."""
    *head, last = path.split(".")
    for part in head:
        obj = getattr(obj, part)
    setattr(obj, last, value)


def _kT(temperature_K: float) -> float:
    from ase.units import kB

    return kB * temperature_K


def _pressure_au(config: "MDConfig") -> float:
    from ase.units import GPa

    return config.pressure_GPa * GPa


@register_integrator("nve", thermostat=False,
                     conserved=lambda dyn: float(dyn.atoms.get_total_energy()))
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


@register_integrator("nvt-langevin",
                     retarget=lambda dyn, t, p: dyn.set_temperature(temperature_K=t))
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


def _bussi_retarget(dyn, temperature_K: float, pressure: float) -> None:
    dyn.temp = _kT(temperature_K)
    dyn.target_kinetic_energy = 0.5 * dyn.temp * dyn.ndof


@register_integrator("nvt-bussi", retarget=_bussi_retarget, state=("transferred_energy",),
                     conserved=lambda dyn: float(dyn.atoms.get_total_energy()
                                                 - dyn.transferred_energy))
def bussi(atoms: "Atoms", config: "MDConfig",
          rng: "np.random.Generator") -> "MolecularDynamics":
    """Stochastic velocity rescaling (Bussi-Donadio-Parrinello) [1]_, ASE's ``Bussi``.

    Velocity Verlet whose kinetic energy is rescaled every step by a factor drawn so that
    it relaxes to the canonical distribution with time constant ``tau_T =
    config.thermostat_time_fs`` (0.1-1 ps typical): canonical sampling with dynamics
    barely perturbed, the usual choice for transport at fixed volume. The conserved
    energy is ``E_tot - (energy given by the thermostat)``.

    References
    ----------
    .. [1] G. Bussi, D. Donadio, M. Parrinello, J. Chem. Phys. 126, 014101 (2007),
       doi:10.1063/1.2408420
    """
    from ase.md.bussi import Bussi

    return Bussi(atoms, timestep=config.timestep_fs * FS, temperature_K=config.temperature_K,
                 taut=config.thermostat_time_fs * FS, rng=rng)


_NHC_STATE = ("_thermostat._eta", "_thermostat._p_eta", "_thermostat._kT")
_BARO_STATE = ("_barostat._xi", "_barostat._p_xi", "_barostat._kT", "_kT", "_temperature_K",
               "_pressure_au")


def _nhc_retarget(dyn, temperature_K: float, pressure: float) -> None:
    dyn._thermostat._kT = _kT(temperature_K)


def _mtk_retarget(dyn, temperature_K: float, pressure: float) -> None:
    kT = _kT(temperature_K)
    dyn._thermostat._kT = dyn._barostat._kT = dyn._kT = kT
    dyn._temperature_K, dyn._pressure_au = float(temperature_K), float(pressure)


def _thermostat_for(dyn, atoms: "Atoms", config: "MDConfig", n_eff: float):
    """A Nosé-Hoover chain acting on ``3 n_eff`` degrees of freedom (ASE's uses ``3N``)."""
    from ase.md.nose_hoover_chain import NoseHooverChainThermostat

    return NoseHooverChainThermostat(num_atoms_global=n_eff, masses=dyn.masses,
                                     temperature_K=config.temperature_K,
                                     tdamp=config.thermostat_time_fs * FS,
                                     tchain=config.chain_length)


@register_integrator("nvt-nhc", constraints=False, retarget=_nhc_retarget, state=_NHC_STATE,
                     conserved=lambda dyn: dyn.get_conserved_energy())
def nose_hoover_chain(atoms: "Atoms", config: "MDConfig",
                      rng: "np.random.Generator") -> "MolecularDynamics":
    """Nosé-Hoover chain thermostat [1]_ (ASE's ``NoseHooverChainNVT``), deterministic.

    ``config.chain_length`` thermostats (3), time constant ``tdamp =
    config.thermostat_time_fs`` (~100 time steps). The first thermostat couples to the
    run's :func:`degrees_of_freedom` (``3N - 3`` with ``fix_com``), so the reported
    temperature fluctuates canonically around the target. The conserved energy includes
    the thermostat's.

    The integrator conserves the (zero) total momentum itself; it takes no ASE
    constraints, because a FixCom re-applied at each of its position updates shifts the
    positions by rounding errors and forces a second force call per step.

    References
    ----------
    .. [1] G. J. Martyna, M. L. Klein, M. E. Tuckerman, J. Chem. Phys. 97, 2635 (1992),
       doi:10.1063/1.463940
    """
    from ase.md.nose_hoover_chain import NoseHooverChainNVT

    dyn = NoseHooverChainNVT(atoms, timestep=config.timestep_fs * FS,
                             temperature_K=config.temperature_K,
                             tdamp=config.thermostat_time_fs * FS, tchain=config.chain_length)
    dyn._thermostat = _thermostat_for(dyn, atoms, config, degrees_of_freedom(atoms, config) / 3)
    return dyn


def _mtk_dof(dyn, atoms: "Atoms", config: "MDConfig", barostat_cls, **baro_kwargs) -> None:
    """Rebuild ASE's MTK thermostat and barostat for the run's degrees of freedom."""
    n_eff = degrees_of_freedom(atoms, config) / 3
    dyn._num_atoms_global = n_eff
    dyn._thermostat = _thermostat_for(dyn, atoms, config, n_eff)
    dyn._barostat = barostat_cls(num_atoms_global=n_eff, temperature_K=config.temperature_K,
                                 pdamp=config.barostat_time_fs * FS, pchain=config.chain_length,
                                 **baro_kwargs)


def _mtk_kwargs(config: "MDConfig") -> dict[str, Any]:
    return dict(timestep=config.timestep_fs * FS, temperature_K=config.temperature_K,
                pressure_au=_pressure_au(config), tdamp=config.thermostat_time_fs * FS,
                pdamp=config.barostat_time_fs * FS, tchain=config.chain_length,
                pchain=config.chain_length)


@register_integrator("npt-mtk-iso", barostat=True, constraints=False, retarget=_mtk_retarget,
                     state=_NHC_STATE + _BARO_STATE + ("_eps", "_p_eps", "_cell0", "_volume0"),
                     conserved=lambda dyn: dyn.get_conserved_energy())
def mtk_isotropic(atoms: "Atoms", config: "MDConfig",
                  rng: "np.random.Generator") -> "MolecularDynamics":
    """Isothermal-isobaric MD, isotropic cell: Martyna-Tobias-Klein [1]_ (ASE's
    ``IsotropicMTKNPT``), Nosé-Hoover chains on particles and on the barostat.

    Targets ``config.temperature_K`` and ``config.pressure_GPa`` (converted to eV/Å^3 with
    ``ase.units.GPa``); time constants ``tdamp = thermostat_time_fs`` (~100 steps) and
    ``pdamp = barostat_time_fs`` (~1000 steps). The cell keeps its shape and scales as
    ``cell0 * exp(eps)``. MTK equations of motion sample the NPT ensemble exactly, with
    the correct volume fluctuations ``<dV^2> = k_B T V kappa_T``. With ``fix_com`` the
    number of degrees of freedom is ``3N - 3`` (``N_f`` of [1]_); ASE constraints are not
    supported.

    References
    ----------
    .. [1] G. J. Martyna, D. J. Tobias, M. L. Klein, J. Chem. Phys. 101, 4177 (1994),
       doi:10.1063/1.467468
    """
    from ase.md.nose_hoover_chain import IsotropicMTKBarostat, IsotropicMTKNPT

    dyn = IsotropicMTKNPT(atoms, **_mtk_kwargs(config))
    _mtk_dof(dyn, atoms, config, IsotropicMTKBarostat)
    return dyn


@register_integrator("npt-mtk-aniso", barostat=True, constraints=False, retarget=_mtk_retarget,
                     state=_NHC_STATE + _BARO_STATE + ("_p_g",),
                     conserved=lambda dyn: dyn.get_conserved_energy())
def mtk_anisotropic(atoms: "Atoms", config: "MDConfig",
                    rng: "np.random.Generator") -> "MolecularDynamics":
    """Isothermal-isobaric MD with a fully flexible cell: Martyna-Tobias-Klein [1]_ (ASE's
    ``MTKNPT``); lengths and angles fluctuate under the hydrostatic target pressure
    ``config.pressure_GPa``. Parameters and degrees of freedom as ``npt-mtk-iso``.

    References
    ----------
    .. [1] G. J. Martyna, D. J. Tobias, M. L. Klein, J. Chem. Phys. 101, 4177 (1994),
       doi:10.1063/1.467468
    """
    from ase.md.nose_hoover_chain import MTKNPT, MTKBarostat

    dyn = MTKNPT(atoms, **_mtk_kwargs(config))
    _mtk_dof(dyn, atoms, config, MTKBarostat)
    return dyn


@register_integrator("npt-mtk-axes", barostat=True, constraints=False, retarget=_mtk_retarget,
                     state=_NHC_STATE + _BARO_STATE + ("_p_c", "_h0_basis"),
                     conserved=lambda dyn: dyn.get_conserved_energy())
def mtk_axes(atoms: "Atoms", config: "MDConfig",
             rng: "np.random.Generator") -> "MolecularDynamics":
    """Isothermal-isobaric MD in which the three cell lengths fluctuate independently
    and the angles stay fixed: Martyna-Tobias-Klein [1]_ restricted to the cell axes
    (ASE's ``MaskedMTKNPT`` with all three axes free). Suits anisotropic crystals whose
    cell shape is fixed by symmetry. Parameters as ``npt-mtk-iso``.

    References
    ----------
    .. [1] G. J. Martyna, D. J. Tobias, M. L. Klein, J. Chem. Phys. 101, 4177 (1994),
       doi:10.1063/1.467468
    """
    from ase.md.nose_hoover_chain import MaskedMTKNPT, MTKBarostat

    dyn = MaskedMTKNPT(atoms, **_mtk_kwargs(config), mask=(True, True, True))
    _mtk_dof(dyn, atoms, config, MTKBarostat, mask=(True, True, True))
    return dyn


def integrator_state(dyn: "MolecularDynamics", entry: Integrator) -> dict[str, Any]:
    """The values of ``entry.state`` (copies), for a checkpoint."""
    import numpy as np

    return {path: np.array(get_path(dyn, path), dtype=float) for path in entry.state}


def restore_integrator_state(dyn: "MolecularDynamics", entry: Integrator,
                             state: dict[str, Any]) -> None:
    """Set the variables saved by :func:`integrator_state` (floats stay floats).

    Raises
    ------
    UserInputError
        A variable of ``entry.state`` is missing from ``state``.
    """
    import numpy as np

    missing = [p for p in entry.state if p not in state]
    if missing:
        raise UserInputError(f"the checkpoint lacks the {entry.name} variables {missing}: it "
                             "was written by another ensemble or code version")
    for path in entry.state:
        old, value = get_path(dyn, path), np.array(state[path], dtype=float)
        set_path(dyn, path, float(value) if np.ndim(old) == 0 else value.copy())
