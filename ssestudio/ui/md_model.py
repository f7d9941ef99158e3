"""View model of the MD tab's form: force field, structure or composition, protocol.

:class:`MDForm` holds the form's values (param parameters, no widgets) and turns them into
job specs: one ``md`` job (a single run, or a heating/cooling ramp), one ``md`` job per
temperature (a sweep, :func:`ssestudio.jobs.md.sweep_specs`) or one ``meltquench`` job.
Protocols are entries of :data:`PROTOCOLS` (a registry: label, the fields it uses, the
function that builds its specs). :meth:`MDForm.schedules` gives the target T(t) and P(t)
of what would run, for the plot drawn before anything is launched.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import param

from ssestudio.core.errors import UserInputError

__all__ = ["MDForm", "PROTOCOLS", "ProtocolEntry", "parse_supercell", "parse_temperatures"]

#: Melt-quench fields of the form, filled from the chosen preset (overrides when changed).
MELT_FIELDS = ("melt_K", "hold_ps", "quench_rate_K_per_ps", "final_K", "anneal_ps", "relax_ps",
               "production_ps", "mq_timestep_fs")


def parse_temperatures(text: str) -> list[float]:
    """``"600 700, 800"`` -> ``[600.0, 700.0, 800.0]`` (K); a clear error otherwise."""
    items = [t for t in re.split(r"[\s,;]+", str(text).strip()) if t]
    try:
        values = [float(t.removesuffix("K").removesuffix("k")) for t in items]
    except ValueError:
        raise UserInputError(f"temperatures must be numbers of kelvin separated by spaces or "
                             f"commas, e.g. '600 700 800 900', got {text!r}") from None
    if not values or any(not (math.isfinite(v) and v > 0) for v in values):
        raise UserInputError(f"give one or more temperatures > 0 K, e.g. '600 700 800 900', "
                             f"got {text!r}")
    return values


def parse_supercell(text: str) -> tuple[int, int, int]:
    """``"2 2 1"`` or ``"2x2x1"`` -> ``(2, 2, 1)``; a single ``"2"`` -> ``(2, 2, 2)``."""
    items = [t for t in re.split(r"[\s,x×*]+", str(text).strip().lower()) if t]
    try:
        reps = [int(t) for t in items]
    except ValueError:
        reps = []
    if len(reps) == 1:
        reps *= 3
    if len(reps) != 3 or min(reps) < 1:
        raise UserInputError(f"supercell must be three integers >= 1 such as '2 2 2' (or one "
                             f"for all axes), got {text!r}")
    return tuple(reps)  # type: ignore[return-value]


@dataclass(frozen=True)
class ProtocolEntry:
    """A protocol of the form.

    Attributes
    ----------
    label : str
        Shown in the selector.
    fields : tuple of str
        Form fields this protocol uses (the view shows only these).
    build : callable
        ``build(form) -> list[JobSpec]``.
    help : str
        One line under the selector.
    """

    label: str
    fields: tuple[str, ...]
    build: Callable[["MDForm"], list]
    help: str


_MD_FIELDS = ("structure", "supercell", "ensemble", "timestep_fs", "duration_ps",
              "write_interval", "equilibration_ps", "pressure_GPa")


def _single(form: "MDForm") -> list:
    return [form.md_spec()]


def _sweep(form: "MDForm") -> list:
    from ssestudio.jobs.md import sweep_specs

    return sweep_specs(form.md_spec(), parse_temperatures(form.temperatures))


def _ramp(form: "MDForm") -> list:
    return [form.md_spec(end_temperature_K=form.end_temperature_K)]


def _meltquench(form: "MDForm") -> list:
    return [form.meltquench_spec()]


#: The protocols of the MD tab (key -> entry).
PROTOCOLS: dict[str, ProtocolEntry] = {
    "single": ProtocolEntry(
        "Single run", ("temperature_K", *_MD_FIELDS), _single,
        "one run at a constant temperature, after an optional equilibration"),
    "sweep": ProtocolEntry(
        "Temperature sweep", ("temperatures", *_MD_FIELDS), _sweep,
        "one job per temperature (they run in parallel on free workers); send the finished "
        "runs to the Conductivity tab for the Arrhenius plot"),
    "ramp": ProtocolEntry(
        "Heating/cooling ramp", ("temperature_K", "end_temperature_K", *_MD_FIELDS), _ramp,
        "the target temperature goes linearly from start to end over the run (use an NPT "
        "ensemble to see the lattice follow: phase transitions)"),
    "meltquench": ProtocolEntry(
        "Melt-quench (glass)", ("mq_source", "composition", "n_atoms", "structure", "supercell",
                                "preset", *MELT_FIELDS), _meltquench,
        "random packing (or crystal) → heat → melt → quench → anneal → NPT relaxation → "
        "production; the glass is saved as a workspace structure"),
}


class MDForm(param.Parameterized):
    """The MD tab's form (values only; :class:`~ssestudio.ui.md.MDTab` draws it).

    Parameters
    ----------
    workspace : ssestudio.workspace.Workspace
    """

    engine = param.String(default="", doc="Key of engine_options: 'model:<name>@<v>' or "
                                          "'calc:<name>'")
    engine_options = param.Dict(default={}, doc="Label -> engine key")
    structure = param.String(default="", doc="Workspace structure name")
    structure_options = param.List(default=[])
    supercell = param.String(default="1 1 1")
    protocol = param.Selector(default="single", objects=list(PROTOCOLS))
    temperature_K = param.Number(default=600.0, bounds=(0, None))
    temperatures = param.String(default="600 700 800 900", doc="Sweep temperatures, K")
    end_temperature_K = param.Number(default=1000.0, bounds=(0, None))
    ensemble = param.Selector(default="nvt-bussi", objects=["nvt-bussi"])
    timestep_fs = param.Number(default=2.0, bounds=(0, 10))
    duration_ps = param.Number(default=10.0, bounds=(0, None))
    write_interval = param.Integer(default=25, bounds=(1, None))
    equilibration_ps = param.Number(default=2.0, bounds=(0, None))
    pressure_GPa = param.Number(default=0.0)
    seed = param.Integer(default=None, allow_None=True, bounds=(0, None))
    run_name = param.String(default="", doc="Trajectory name ('' = automatic)")
    # melt-quench
    mq_source = param.Selector(default="composition", objects=["composition", "structure"])
    composition = param.String(default="75Li2S-25P2S5")
    n_atoms = param.Integer(default=200, bounds=(1, None))
    preset = param.Selector(default="quick", objects=["quick"])
    melt_K = param.Number(default=1500.0, bounds=(0, None))
    hold_ps = param.Number(default=4.0, bounds=(0, None))
    quench_rate_K_per_ps = param.Number(default=200.0, bounds=(0, None))
    final_K = param.Number(default=300.0, bounds=(0, None))
    anneal_ps = param.Number(default=2.0, bounds=(0, None))
    relax_ps = param.Number(default=6.0, bounds=(0, None))
    production_ps = param.Number(default=6.0, bounds=(0, None))
    mq_timestep_fs = param.Number(default=2.0, bounds=(0, 10))

    def __init__(self, workspace, **params) -> None:
        from ssestudio.md import available_ensembles
        from ssestudio.md.meltquench import MELT_QUENCH_PRESETS

        self.param.ensemble.objects = list(available_ensembles())
        self.param.preset.objects = list(MELT_QUENCH_PRESETS)
        super().__init__(**params)
        self.workspace = workspace
        self.refresh()
        self._apply_preset()
        self.param.watch(lambda _e: self._apply_preset(), "preset")

    # ---- choices -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-list the workspace's models and structures and the available calculators
        (keeps the choices that still exist; a trained model is the default engine)."""
        from ssestudio.calculators import available_calculators

        options = {}
        for rec in sorted(self.workspace.list_artifacts("models"),
                          key=lambda r: (r.name, -r.version)):
            options[f"model · {rec.name}@{rec.version}"] = f"model:{rec.name}@{rec.version}"
        for info in available_calculators():
            if info.name != "model" and info.available:
                options[f"{info.name} · {info.description}"] = f"calc:{info.name}"
        if options != self.engine_options:
            self.engine_options = options
        if self.engine not in options.values():
            self.engine = next(iter(options.values()), "")
        names = [r.name for r in self.workspace.list_structures()]
        if names != self.structure_options:
            self.structure_options = names
        if self.structure not in names:
            self.structure = names[0] if names else ""

    def _apply_preset(self) -> None:
        from ssestudio.md.meltquench import get_preset

        p = get_preset(self.preset)
        c = p.config
        self.param.update(melt_K=c.melt_K, hold_ps=c.hold_ps,
                          quench_rate_K_per_ps=c.quench_rate_K_per_ps, final_K=c.final_K,
                          anneal_ps=c.anneal_ps, relax_ps=c.relax_ps,
                          production_ps=c.production_ps, mq_timestep_fs=c.timestep_fs,
                          n_atoms=p.n_atoms)

    @property
    def entry(self) -> ProtocolEntry:
        """The chosen protocol."""
        return PROTOCOLS[self.protocol]

    def calculator(self) -> tuple[str, dict[str, Any]]:
        """``(calculator name, options)`` of the chosen engine."""
        from ssestudio.jobs.md import model_calculator

        kind, _, ref = self.engine.partition(":")
        if kind == "model":
            return model_calculator(self.workspace, ref)
        if kind == "calc" and ref:
            return ref, {}
        raise UserInputError("choose a force field: a model trained in the Training tab (or "
                             "the sample model), or a pretrained calculator")

    def _structure(self) -> str:
        if not self.structure:
            raise UserInputError("choose a structure (import one in the Trajectories tab or "
                                 "build one in the Dataset tab; a melt-quench saves its glass "
                                 "as a structure)")
        return self.structure

    # ---- specs -------------------------------------------------------------------------
    def _steps(self, duration_ps: float, what: str) -> int:
        if not self.timestep_fs > 0:
            raise UserInputError(f"timestep_fs must be > 0, got {self.timestep_fs}")
        steps = int(round(1000.0 * duration_ps / self.timestep_fs))
        if what == "run" and steps < 1:
            raise UserInputError(f"the run must last at least one step ({self.timestep_fs:g} "
                                 f"fs), got {duration_ps} ps")
        return max(steps, 0)

    def md_spec(self, **changes):
        """The :class:`~ssestudio.jobs.md.MDSpec` of the form (``changes`` replace fields)."""
        from ssestudio.jobs.md import MDSpec

        calculator, options = self.calculator()
        values = dict(structure=self._structure(), calculator=calculator,
                      calculator_options=options, temperature_K=self.temperature_K,
                      timestep_fs=self.timestep_fs, n_steps=self._steps(self.duration_ps, "run"),
                      write_interval=self.write_interval, ensemble=self.ensemble,
                      seed=self.seed, supercell=parse_supercell(self.supercell),
                      name=self.run_name.strip() or None, pressure_GPa=self.pressure_GPa,
                      equilibration_steps=self._steps(self.equilibration_ps, "equilibration"))
        return MDSpec(**{**values, **changes})

    def meltquench_spec(self):
        """The :class:`~ssestudio.jobs.meltquench.MeltQuenchSpec` of the form; the fields
        that differ from the preset become its ``overrides``."""
        from ssestudio.jobs.meltquench import MeltQuenchSpec
        from ssestudio.md.meltquench import get_preset

        calculator, options = self.calculator()
        base = get_preset(self.preset).config
        form = {"melt_K": self.melt_K, "hold_ps": self.hold_ps,
                "quench_rate_K_per_ps": self.quench_rate_K_per_ps, "final_K": self.final_K,
                "anneal_ps": self.anneal_ps, "relax_ps": self.relax_ps,
                "production_ps": self.production_ps, "timestep_fs": self.mq_timestep_fs}
        overrides = {k: v for k, v in form.items() if not math.isclose(v, getattr(base, k))}
        source = ({"composition": self.composition, "n_atoms": self.n_atoms}
                  if self.mq_source == "composition" else
                  {"structure": self._structure(), "supercell": parse_supercell(self.supercell)})
        return MeltQuenchSpec(calculator=calculator, calculator_options=options,
                              preset=self.preset, overrides=overrides, seed=self.seed,
                              name=self.run_name.strip() or None, **source)

    def specs(self) -> list:
        """The job specs of the chosen protocol (validated; nothing is submitted)."""
        return self.entry.build(self)

    def schedules(self, specs: list | None = None) -> list[dict]:
        """Target temperature and pressure against time of each job the form would
        submit (``specs``, default :meth:`specs`): ``label``, ``time_ps``,
        ``temperature_K``, ``pressure_GPa`` (lists, NaN where no thermostat/barostat
        acts), ``stages`` [(name, t0_ps, t1_ps, ensemble)]."""
        out = []
        for spec in self.specs() if specs is None else specs:
            s = spec.protocol(seed=0).schedule()
            label = (f"{spec.temperature_K:g} K" if hasattr(spec, "temperature_K")
                     else self.entry.label)
            t = s.time_ps
            out.append({"label": label, "time_ps": t.tolist(),
                        "temperature_K": s.temperature_K.tolist(),
                        "pressure_GPa": s.pressure_GPa.tolist(),
                        "stages": [(name, float(t[2 * k]), float(t[2 * k + 1]), ens)
                                   for k, (name, ens) in enumerate(zip(s.stage_names,
                                                                       s.ensembles))]})
        return out

    def summary(self, specs: list | None = None) -> str:
        """One line: jobs, steps and simulated time of what would run (``specs``,
        default :meth:`specs`)."""
        specs = self.specs() if specs is None else specs
        protocols = [spec.protocol(seed=0) for spec in specs]
        steps = sum(p.n_steps for p in protocols)
        ps = sum(p.duration_fs for p in protocols) / 1000.0
        return (f"{len(specs)} job{'s' if len(specs) > 1 else ''}, {steps:,} steps, "
                f"{ps:g} ps simulated in all")

    def launch(self, manager) -> list[int]:
        """Check every spec (preflight), then submit them all; returns the job ids. A bad
        input submits nothing."""
        specs = self.specs()
        for spec in specs:
            spec.preflight(self.workspace)
        return [manager.submit(spec) for spec in specs]
