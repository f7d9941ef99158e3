"""The ``meltquench`` job: a glass by melt-quench (:mod:`ssestudio.md.meltquench`).

Shares the MD job's checks, structure loading and output plumbing
(:mod:`ssestudio.jobs.md`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ssestudio.core.errors import UserInputError
from ssestudio.jobs.md import (_absolute_structure, _check_common, _check_supercell,
                               _load_structure, _thaw, as_option_pairs)
from ssestudio.jobs.spec import JobSpec, register_job
from ssestudio.md.outputs import (OutputPlan, atoms_from_checkpoint, glass_analysis,
                                  load_resume_checkpoint, register_glass, run_protocol_job)

if TYPE_CHECKING:
    from ase import Atoms

    from ssestudio.jobs.context import JobContext
    from ssestudio.md import Protocol
    from ssestudio.workspace import Workspace


@register_job("meltquench")
@dataclass(frozen=True)
class MeltQuenchSpec(JobSpec):
    """A glass by melt-quench (:mod:`ssestudio.md.meltquench`), from a random packing of
    a composition or from a structure (e.g. a crystal supercell).

    Outputs: the trajectory of the melt-quench and NPT relaxation (``<name>``), the
    production trajectory at ``final_K`` (``<name>-<T>K``, its provenance carries
    ``temperature_K`` for the Conductivity tab), and the final glass as a workspace
    structure (``<name>-glass``). The result reports the glass density and network
    speciation (:func:`ssestudio.analysis.structure.analyze_structure` over the production
    frames, or the final structure without a production stage).

    Parameters
    ----------
    calculator : str
        Calculator name (``"model"`` with option ``path`` for a trained model).
    calculator_options : dict or tuple of (str, value) pairs
        Its keyword options (JSON values).
    composition : str, optional
        E.g. ``"75Li2S-25P2S5"``: start from :func:`ssestudio.data.glass.random_glass`.
    n_atoms : int, optional
        Atoms of the random packing (default: the preset's).
    density_g_cm3 : float, optional
        Density of the random packing (and of the melt), g/cm^3 (default: the measured
        or estimated glass density, :func:`ssestudio.data.glass.estimate_density`).
    structure : str, optional
        Instead of ``composition``: workspace structure name/id or a structure file.
    supercell : tuple of 3 int
        Repetitions of ``structure``.
    preset : str
        ``"quick"``, ``"workshop"`` or ``"research"`` (:data:`ssestudio.md.MELT_QUENCH_PRESETS`).
    overrides : dict or tuple of (str, value) pairs
        :class:`~ssestudio.md.MeltQuenchConfig` fields replacing the preset's (``melt_K``,
        ``quench_rate_K_per_ps``, ``production_ps``, ...).
    seed : int, optional
        Seed of the packing and of the MD (None: drawn, recorded).
    name : str, optional
        Name of the protocol trajectory (default ``meltquench-<composition>``).
    checkpoint_interval : int
        Steps between checkpoints.
    resume : str or int, optional
        Continue the run that wrote this (protocol) trajectory from its checkpoint.
    """

    calculator: str
    calculator_options: tuple[tuple[str, Any], ...] = ()
    composition: str | None = None
    n_atoms: int | None = None
    density_g_cm3: float | None = None
    structure: str | None = None
    supercell: tuple[int, int, int] = (1, 1, 1)
    preset: str = "quick"
    overrides: tuple[tuple[str, Any], ...] = ()
    seed: int | None = None
    name: str | None = None
    checkpoint_interval: int = 1000
    resume: str | int | None = None

    def validate(self) -> None:
        from ssestudio.data.glass import parse_composition

        _check_common(self)
        if (self.composition is None) == (self.structure is None):
            raise UserInputError("give either a composition (random start, e.g. "
                                 "'75Li2S-25P2S5') or a structure (e.g. a crystal), not both")
        if self.structure is not None:
            object.__setattr__(self, "structure", _absolute_structure(self.structure))
        else:
            object.__setattr__(self, "composition", parse_composition(self.composition).text)
        object.__setattr__(self, "supercell", _check_supercell(self.supercell))
        object.__setattr__(self, "overrides", as_option_pairs(self.overrides))
        if self.n_atoms is not None and (isinstance(self.n_atoms, bool)
                                         or not isinstance(self.n_atoms, int) or self.n_atoms < 1):
            raise UserInputError(f"n_atoms must be a positive integer, got {self.n_atoms!r}")
        if self.density_g_cm3 is not None and not (
                isinstance(self.density_g_cm3, (int, float)) and self.density_g_cm3 > 0):
            raise UserInputError(f"density_g_cm3 must be > 0 g/cm^3, got {self.density_g_cm3!r}")
        self.config()

    @property
    def options(self) -> dict[str, Any]:
        """Calculator options as a dict."""
        return _thaw(self.calculator_options)

    def config(self):
        """The preset's :class:`~ssestudio.md.MeltQuenchConfig` with ``overrides``."""
        from ssestudio.md.meltquench import preset_config

        return preset_config(self.preset, _thaw(self.overrides))

    def protocol(self, *, seed: int | None = None) -> "Protocol":
        """The melt-quench stages (:func:`~ssestudio.md.melt_quench_protocol`)."""
        from ssestudio.md import melt_quench_protocol

        return melt_quench_protocol(self.config(), seed=seed)

    def start_atoms(self, workspace: "Workspace", seed: int) -> "Atoms":
        """The start: a random packing of ``composition``, or ``structure``."""
        from ssestudio.data.glass import random_glass
        from ssestudio.md.meltquench import get_preset

        if self.structure is not None:
            return _load_structure(workspace, self.structure, self.supercell)
        n_atoms = self.n_atoms or get_preset(self.preset).n_atoms
        return random_glass(self.composition, n_atoms=n_atoms, density_g_cm3=self.density_g_cm3,
                            seed=seed % 2**31)

    def preflight(self, workspace: "Workspace") -> None:
        from ssestudio.calculators import check_calculator
        from ssestudio.data.glass import estimate_density

        check_calculator(self.calculator)
        if self.resume is not None:
            workspace.get_trajectory(self.resume)
            return
        if self.structure is not None:
            _load_structure(workspace, self.structure, self.supercell)
        elif self.density_g_cm3 is None:
            estimate_density(self.composition)
        if self.name is not None:
            workspace.available_name("trajectories", self.name, default="")

    def run(self, ctx: "JobContext") -> dict:
        import secrets

        from ssestudio.calculators import get_calculator

        ckpt = None if self.resume is None else load_resume_checkpoint(ctx, self.resume)
        seed = ckpt.seed if ckpt else self.seed if self.seed is not None else secrets.randbits(32)
        atoms = (self.start_atoms(ctx.workspace, seed) if ckpt is None
                 else atoms_from_checkpoint(ckpt))
        protocol, config = self.protocol(seed=seed), self.config()
        calc = get_calculator(self.calculator, **self.options)
        schedule = protocol.schedule()
        ctx.log(f"melt-quench ({self.preset}) of {atoms.get_chemical_formula('hill')} "
                f"({len(atoms)} atoms) with {self.calculator!r}: stages "
                + ", ".join(f"{n} {t1 / 1000:.3g} ps" for n, t1 in zip(
                    schedule.stage_names, schedule.time_fs[1::2] - schedule.time_fs[::2])))
        result, opened = run_protocol_job(ctx, atoms, calc, protocol,
                                          self._plans(atoms, config, protocol, seed),
                                          checkpoint_interval=self.checkpoint_interval,
                                          resume=ckpt)
        return self._report(ctx, atoms, result, opened)

    def _plans(self, atoms: "Atoms", config, protocol: "Protocol", seed: int) -> list[OutputPlan]:
        label = self.composition or atoms.get_chemical_formula("hill")
        default = f"meltquench-{label}"
        params = {**self.to_dict()["params"], "seed": seed}
        inputs = (self.structure or f"glass:{self.composition}",)
        plans = [OutputPlan("protocol", self.name, default,
                            f"melt-quench {self.preset}: {config.melt_K:g} K melt, "
                            f"{config.quench_rate_K_per_ps:g} K/ps quench, NPT relaxation "
                            f"({self.calculator})",
                            {**params, "temperature_K": None, "ensemble": "melt-quench"}, inputs)]
        if "production" in protocol.outputs:
            plans.append(OutputPlan(
                "production", None, f"{self.name or default}-{config.final_K:g}K",
                f"MD {config.thermostat} {config.final_K:g} K of the melt-quenched glass "
                f"({self.calculator})",
                {**params, "temperature_K": config.final_K, "ensemble": config.thermostat,
                 "stage": "production"}, inputs))
        return plans

    def _report(self, ctx: "JobContext", atoms: "Atoms", result, opened) -> dict:
        glass = register_glass(ctx, atoms, opened)
        analysis = glass_analysis(ctx, atoms, opened)
        density = analysis.get("density_g_cm3") or result.final_density_g_cm3
        main, prod = opened["protocol"], opened.get("production")
        ctx.log(f"glass density {density:.4g} g/cm^3, {result.atom_steps_per_s:,.0f} atom-steps/s,"
                f" {result.wall_s:.1f} s; structure {glass.name!r}")
        return {"density_g_cm3": density, "speciation": analysis.get("speciation"),
                "analysis_warnings": analysis.get("warnings", []),
                "glass_structure": glass.name, "glass_structure_id": glass.id,
                "trajectory": main.record.name, "trajectory_id": main.record.id,
                "production_trajectory": None if prod is None else prod.record.name,
                "production_trajectory_id": None if prod is None else prod.record.id,
                "n_atoms": len(atoms), "formula": atoms.get_chemical_formula("hill"),
                "composition": self.composition, "preset": self.preset,
                "atom_steps_per_s": result.atom_steps_per_s, "wall_s": result.wall_s,
                "seed": result.seed, "n_steps_done": result.n_steps_done,
                "stages": [{"name": n, "n_steps_done": s.n_steps_done, "mean_T_K": s.mean_T_K,
                            "mean_P_GPa": s.mean_P_GPa,
                            "mean_density_g_cm3": s.mean_density_g_cm3}
                           for n, s in zip(result.stage_names, result.stages)]}
