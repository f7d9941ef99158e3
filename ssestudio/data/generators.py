"""Configuration generators: small composable functions, chained into reproducible pipelines.

A generator turns one structure into one or several new ones (``fn(atoms, *, rng,
**params) -> list[Atoms]``, registered with :func:`register_generator`). A pipeline is a
list of :class:`GeneratorStep`; :func:`apply_pipeline` applies each step to every output of
the previous one and records the chain in ``atoms.info["provenance"]["generators"]`` as
``{"name", "params", "seed", ...notes}`` (see :mod:`ssestudio.data` for the conventions).

Built-in generators (parameters: :func:`describe_generators`):

==================  ===================================================================
``supercell``       repeat (a, b, c) or until every perpendicular width >= min_length_A
``rattle``          Gaussian displacements of stdev_A, n_copies
``strain``          random volume change in a range and/or random shear, n_copies
``vacancies``       remove n atoms of a species (charge noted, optional compensation)
``stuffing``        insert n atoms into the emptiest sites (charge noted, compensation)
``swap``            exchange n pairs of two species (e.g. S/Cl anion-site disorder)
``substitute``      replace n (or a fraction of) atoms of A by B (charge change noted)
``md_snapshots``    snapshots of Langevin NVT runs at several temperatures
``melt_snapshots``  snapshots of a hot (default 1200 K), rattled, optionally expanded run
==================  ===================================================================

Example::

    steps = pipeline_from_json([
        {"name": "supercell", "params": {"min_length_A": 10.0}},
        {"name": "vacancies", "params": {"species": "Li", "n": 1, "n_copies": 3}},
        {"name": "rattle", "params": {"stdev_A": 0.05, "n_copies": 2}},
    ])
    configs = apply_pipeline([li2s], steps, seed=7)      # 6 structures, bit-reproducible

Seeds: the generator that processes input ``i`` of step ``k`` gets the integer seed
:func:`derive_seed` ``(seed, step_index=k, input_index=i)`` (from
:class:`numpy.random.SeedSequence`), recorded in the provenance, so the same pipeline,
inputs and seed give identical structures, and any step can be replayed alone with
:func:`apply_generator`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import SSEStudioError, UserInputError
from ssestudio.data import (  # noqa: F401  (registers the built-ins)
    generators_defects,
    generators_md,
    generators_structure,
    generators_stuffing,
)
from ssestudio.data.generators_core import (
    GENERATORS,
    GeneratorEntry,
    GeneratorError,
    ParameterInfo,
    annotate,
    apply_generator,
    fresh_copy,
    get_generator,
    json_ready,
    register_generator,
)

if TYPE_CHECKING:
    from ase import Atoms

__all__ = [
    "GENERATORS", "GenerationCancelled", "GeneratorEntry", "GeneratorError", "GeneratorStep",
    "ParameterInfo", "annotate", "apply_generator", "apply_pipeline", "available_generators",
    "derive_seed", "describe_generators", "get_generator", "pipeline_from_json",
    "pipeline_to_json", "register_generator",
]

ProgressCallback = Callable[[float, str], None]
_STEP_KEYS = ("name", "params", "seed")


class GenerationCancelled(SSEStudioError):
    """``cancel()`` returned True: the pipeline stopped between two structures.

    Attributes
    ----------
    n_done : int
        Generator applications finished before the stop.
    """

    def __init__(self, message: str, *, n_done: int) -> None:
        super().__init__(message)
        self.n_done = n_done


def _check_seed(seed: Any, *, where: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UserInputError(f"{where} must be an integer >= 0, got {seed!r}")
    return int(seed)


@dataclass(frozen=True)
class GeneratorStep:
    """One step of a pipeline: a generator name, its parameters and an optional seed.

    Parameters
    ----------
    name : str
        Registered generator (:func:`available_generators`).
    params : dict
        Its parameters (JSON-ready; missing ones take their defaults when applied).
    seed : int, optional
        Fixes this step's randomness independently of the pipeline seed and the step's
        position (None: derived from the pipeline seed).

    Raises
    ------
    UserInputError
        Unknown generator, unknown or missing parameter names, non-JSON values, bad seed.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None

    def __post_init__(self) -> None:
        entry = get_generator(self.name)
        if not isinstance(self.params, Mapping):
            raise UserInputError(f"the params of step {self.name!r} must be a dict of "
                                 f"parameters, got {self.params!r}")
        entry.resolve(self.params)  # names and JSON-readiness
        object.__setattr__(self, "params", json_ready(dict(self.params),
                                                      where=f"{self.name} params"))
        if self.seed is not None:
            object.__setattr__(self, "seed", _check_seed(self.seed,
                                                         where=f"the seed of step {self.name!r}"))

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "params"[, "seed"]}`` (JSON-ready)."""
        data = {"name": self.name, "params": json.loads(json.dumps(self.params))}
        return data if self.seed is None else {**data, "seed": self.seed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GeneratorStep:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        UserInputError
            Not a dict, no ``name``, or keys other than name, params and seed.
        """
        if not isinstance(data, Mapping) or "name" not in data:
            raise UserInputError(f"a pipeline step must be a dict like {{'name': 'rattle', "
                                 f"'params': {{'stdev_A': 0.05}}}}, got {data!r}")
        unknown = sorted(set(data) - set(_STEP_KEYS))
        if unknown:
            raise UserInputError(f"pipeline step {data.get('name')!r} has unknown keys "
                                 f"{unknown}; a step has only {', '.join(_STEP_KEYS)}")
        return cls(data["name"], dict(data.get("params") or {}), data.get("seed"))


def pipeline_to_json(steps: Sequence[GeneratorStep]) -> list[dict[str, Any]]:
    """The steps as a JSON-ready list of dicts (for jobs, the CLI and the UI)."""
    return [step.to_dict() for step in steps]


def pipeline_from_json(data: str | Sequence[Mapping[str, Any]]) -> list[GeneratorStep]:
    """Steps from :func:`pipeline_to_json`'s list, or its JSON text.

    Raises
    ------
    UserInputError
        Invalid JSON, not a list, or an invalid step (the message names it).
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise UserInputError(f"a pipeline must be a JSON list of steps: {exc}") from None
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise UserInputError(f"a pipeline must be a list of steps, got {type(data).__name__}")
    steps = []
    for k, item in enumerate(data):
        try:
            steps.append(item if isinstance(item, GeneratorStep)
                         else GeneratorStep.from_dict(item))
        except UserInputError as exc:
            raise UserInputError(f"pipeline step {k + 1}: {exc}") from None
    return steps


def derive_seed(seed: int, *, step_index: int, input_index: int,
                step_seed: int | None = None) -> int:
    """The seed of the generator applied to input ``input_index`` of step ``step_index``.

    ``SeedSequence(seed, spawn_key=(step_index, input_index))``, or
    ``SeedSequence(step_seed, spawn_key=(input_index,))`` when the step fixes its own
    seed, reduced to a 53-bit integer (exact in JSON readers that use doubles).

    Returns
    -------
    int
        In ``[0, 2**53)``.
    """
    if step_seed is not None:
        sequence = np.random.SeedSequence(step_seed, spawn_key=(input_index,))
    else:
        sequence = np.random.SeedSequence(seed, spawn_key=(step_index, input_index))
    high, low = (int(x) for x in sequence.generate_state(2, dtype=np.uint32))
    return (high << 21) | (low >> 11)


def _as_structures(structures: Atoms | Iterable[Atoms]) -> list[Atoms]:
    items = [structures] if hasattr(structures, "positions") else list(structures)
    bad = [i for i, a in enumerate(items) if not hasattr(a, "positions")]
    if bad:
        raise UserInputError(f"apply_pipeline needs ase.Atoms; items {bad[:5]} are not")
    return items


def _steps(steps: Sequence[GeneratorStep | Mapping[str, Any]] | str) -> list[GeneratorStep]:
    return pipeline_from_json(steps if isinstance(steps, str) else list(steps))


def apply_pipeline(structures: Atoms | Iterable[Atoms],
                   steps: Sequence[GeneratorStep | Mapping[str, Any]] | str, *, seed: int = 0,
                   progress: ProgressCallback | None = None,
                   cancel: Callable[[], bool | None] | None = None) -> list[Atoms]:
    """Apply the steps in order, each to every output of the previous step.

    Parameters
    ----------
    structures : ase.Atoms or iterable of ase.Atoms
        Inputs (not modified).
    steps : list of GeneratorStep or of dicts, or JSON text
        The pipeline (dicts as in :func:`pipeline_from_json`). Generator and parameter
        names of all steps are checked before anything runs, parameter values when their
        step first runs. An empty pipeline returns copies of the inputs, without labels.
    seed : int
        Pipeline seed (>= 0); see :func:`derive_seed`.
    progress : callable, optional
        ``progress(fraction, message)`` after each generator application, fraction in
        [0, 1] (steps weigh equally; within a step, its inputs do).
    cancel : callable, optional
        Called before each generator application; a true return raises
        :class:`GenerationCancelled` (an exception it raises propagates).

    Returns
    -------
    list of ase.Atoms
        The last step's outputs, in order (outputs of input 0 first), unlabelled.

    Raises
    ------
    UserInputError
        Invalid steps or parameters.
    GeneratorError
        A generator could not produce a sane structure.
    GenerationCancelled
        ``cancel()`` returned True.
    """
    current = _as_structures(structures)
    pipeline = _steps(steps)
    seed = _check_seed(seed, where="the pipeline seed")
    n_done = 0
    if not pipeline:
        return [fresh_copy(atoms) for atoms in current]
    for k, step in enumerate(pipeline):
        produced: list[Atoms] = []
        for i, atoms in enumerate(current):
            if cancel is not None and cancel():
                raise GenerationCancelled(
                    f"cancelled at step {k + 1}/{len(pipeline)} ({step.name}), structure "
                    f"{i + 1}/{len(current)}", n_done=n_done)
            produced += apply_generator(atoms, step.name, params=step.params, seed=derive_seed(
                seed, step_index=k, input_index=i, step_seed=step.seed))
            n_done += 1
            if progress is not None:
                progress((k + (i + 1) / len(current)) / len(pipeline),
                         f"step {k + 1}/{len(pipeline)} {step.name}: {i + 1}/{len(current)} "
                         f"structures")
        current = produced
    return current


def available_generators() -> tuple[str, ...]:
    """Registered generator names, sorted."""
    return tuple(sorted(GENERATORS))


def describe_generators() -> list[dict[str, Any]]:
    """Each generator's name, one-line summary and parameters (for the UI and the CLI).

    Returns
    -------
    list of dict
        ``{"name", "summary", "parameters": [{"name", "default", "required",
        "description"}, ...]}`` sorted by name, JSON-ready.
    """
    return [GENERATORS[name].describe() for name in available_generators()]
