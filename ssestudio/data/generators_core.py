"""Registry of configuration generators and the application of one generator to one structure.

A generator is a function ``fn(atoms, *, rng, **params) -> list[Atoms]`` registered with
:func:`register_generator`: it takes one structure and returns one or several new ones,
drawing every random number from ``rng``. The caller (:func:`apply_generator`) hands it a
private copy of the input, so inputs are never mutated, and finishes each output:

* labels are dropped (the structure changed), and so is ``provenance["level"]``;
* the input's provenance is deep-copied and the step ``{"name", "params", "seed"}`` is
  appended to ``provenance["generators"]``, with ``params`` the full JSON-ready parameters
  (defaults included) and ``seed`` the integer that seeded ``rng``;
* facts a generator left in ``atoms.info[STEP_NOTES_KEY]`` (e.g. ``charge_balance``) are
  merged into that step; ``temperature_K`` is also copied to the top level of the
  provenance (the data-package convention);
* no two atoms may be closer than ``min_distance_A`` (a parameter every generator
  accepts, default 0.5 Å), else :class:`GeneratorError`.

The helpers ``as_int``, ``as_float``, ``as_symbol``... validate parameter values with
messages that name the generator and parameter, e.g. ``"rattle.stdev_A must be ..."``.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ssestudio.core.errors import SSEStudioError, UserInputError

if TYPE_CHECKING:
    from ase import Atoms

GeneratorFunction = Callable[..., "list[Atoms]"]

#: ``atoms.info`` key where a generator leaves JSON-ready facts about one output; they are
#: merged into that output's provenance step and the key is removed.
STEP_NOTES_KEY = "_generator_step_notes"
#: Step notes also set at the top level of the provenance.
PROVENANCE_NOTES = ("temperature_K",)
#: The parameter every generator accepts: smallest interatomic distance of its outputs, Å.
MIN_DISTANCE_PARAM = "min_distance_A"
DEFAULT_MIN_DISTANCE_A = 0.5
#: Attempts of a random draw before a generator gives up on the distance check.
MAX_ATTEMPTS = 20
#: Modules whose import registers the built-in generators.
_BUILTIN_MODULES = ("ssestudio.data.generators_structure", "ssestudio.data.generators_defects",
                    "ssestudio.data.generators_stuffing", "ssestudio.data.generators_md")


class GeneratorError(SSEStudioError):
    """A generator could not produce a sane structure (atoms too close, MD exploded)."""


@dataclass(frozen=True)
class ParameterInfo:
    """One parameter of a generator (for listings and the UI).

    Attributes
    ----------
    name : str
        Keyword of the generator function.
    default : object
        JSON-ready default (None when required or optional-unset).
    required : bool
        The parameter has no default.
    description : str
        From the generator's numpydoc ``Parameters`` section.
    """

    name: str
    default: Any
    required: bool
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "default": self.default, "required": self.required,
                "description": self.description}


@dataclass(frozen=True)
class GeneratorEntry:
    """One registered generator.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"rattle"``.
    function : callable
        ``function(atoms, *, rng, **params) -> list[Atoms]``.
    summary : str
        First line of the function's docstring.
    parameters : tuple of ParameterInfo
        Its keyword parameters (``rng`` excluded, ``min_distance_A`` always included).
    """

    name: str
    function: GeneratorFunction
    summary: str
    parameters: tuple[ParameterInfo, ...]

    @property
    def accepted(self) -> tuple[str, ...]:
        """Accepted parameter names."""
        return tuple(p.name for p in self.parameters)

    def resolve(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """``params`` with the defaults filled in, made JSON-ready.

        Raises
        ------
        UserInputError
            Unknown or missing parameter names (the message lists the accepted ones), or
            values that are not JSON-ready.
        """
        params = dict(params or {})
        unknown = sorted(set(params) - set(self.accepted))
        if unknown:
            raise UserInputError(
                f"generator {self.name!r} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are: {', '.join(self.accepted)}")
        missing = [p.name for p in self.parameters if p.required and p.name not in params]
        if missing:
            raise UserInputError(f"generator {self.name!r} needs parameter "
                                 f"{', '.join(map(repr, missing))} (see describe_generators())")
        return {p.name: json_ready(params.get(p.name, p.default), where=f"{self.name}.{p.name}")
                for p in self.parameters}

    def describe(self) -> dict[str, Any]:
        """``{"name", "summary", "parameters": [ParameterInfo.to_dict(), ...]}``."""
        return {"name": self.name, "summary": self.summary,
                "parameters": [p.to_dict() for p in self.parameters]}


#: The registered generators by name (filled by :func:`register_generator`).
GENERATORS: dict[str, GeneratorEntry] = {}


def json_ready(value: Any, *, where: str) -> Any:
    """``value`` as plain JSON data: tuples and arrays become lists, numpy scalars numbers.

    Raises
    ------
    UserInputError
        Non-finite numbers, non-string keys or objects JSON cannot hold.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UserInputError(f"{where} = {value!r}: give a finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [json_ready(v, where=f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: json_ready(v, where=f"{where}.{k}") for k, v in value.items()}
    raise UserInputError(f"{where} = {value!r} cannot be stored in a pipeline: use numbers, "
                         "strings, lists or dicts with string keys")


def _parameter_docs(doc: str) -> dict[str, str]:
    """``{name: description}`` from a numpydoc ``Parameters`` section."""
    lines = inspect.cleandoc(doc or "").splitlines()
    docs: dict[str, list[str]] = {}
    names: list[str] = []
    inside = False
    for k, line in enumerate(lines):
        if set(line.strip()) == {"-"}:  # underline of a section header
            continue
        if k + 1 < len(lines) and set(lines[k + 1].strip()) == {"-"}:
            inside = line.strip() == "Parameters"
            continue
        if not inside or not line.strip():
            continue
        if not line.startswith(" "):
            names = [n.strip() for n in line.split(":")[0].split(",")]
            docs.update({n: [] for n in names})
        else:
            for n in names:
                docs[n].append(line.strip())
    return {n: " ".join(words) for n, words in docs.items()}


def _parameters(name: str, fn: GeneratorFunction) -> tuple[ParameterInfo, ...]:
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if (not params or params[0].kind not in (params[0].POSITIONAL_ONLY,
                                             params[0].POSITIONAL_OR_KEYWORD)
            or "rng" not in signature.parameters
            or any(p.kind is not p.KEYWORD_ONLY for p in params[1:])):
        raise TypeError(f"generator {name!r} must look like fn(atoms, *, rng, **keyword "
                        "parameters with defaults) (no *args or **kwargs)")
    docs = _parameter_docs(inspect.getdoc(fn) or "")
    infos = [ParameterInfo(p.name, json_ready(None if p.default is p.empty else p.default,
                                              where=f"{name}.{p.name}"),
                           p.default is p.empty, docs.get(p.name, ""))
             for p in params[1:] if p.name != "rng"]
    if MIN_DISTANCE_PARAM not in signature.parameters:
        infos.append(ParameterInfo(MIN_DISTANCE_PARAM, DEFAULT_MIN_DISTANCE_A, False,
                                   "No two atoms of an output closer than this, Å."))
    return tuple(infos)


def register_generator(name: str) -> Callable[[GeneratorFunction], GeneratorFunction]:
    """Decorator registering ``fn(atoms, *, rng, **params) -> list[Atoms]`` as ``name``.

    The function's parameters (keyword-only, with JSON-ready defaults), their numpydoc
    descriptions and its docstring's first line are what :func:`describe_generators` lists.

    Raises
    ------
    ValueError
        ``name`` is not an identifier.
    TypeError
        The function does not have the generator signature.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"generator name {name!r} must be an identifier such as 'rattle'")

    def decorator(fn: GeneratorFunction) -> GeneratorFunction:
        summary = (inspect.getdoc(fn) or name).splitlines()[0].strip()
        GENERATORS[name] = GeneratorEntry(name, fn, summary, _parameters(name, fn))
        return fn
    return decorator


def load_builtin_generators() -> None:
    """Import the modules that register the built-in generators (cheap; no heavy imports)."""
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def get_generator(name: str) -> GeneratorEntry:
    """The registered generator ``name``.

    Raises
    ------
    UserInputError
        Unknown name (the message lists the registered ones).
    """
    load_builtin_generators()
    if not isinstance(name, str) or name not in GENERATORS:
        raise UserInputError(f"unknown generator {name!r}; choose one of "
                             f"{', '.join(sorted(GENERATORS))}")
    return GENERATORS[name]


# ----------------------------------------------------------------------------- checks of values
def as_int(value: Any, *, where: str, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum`` (bools and non-integral numbers rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise UserInputError(f"{where} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_float(value: Any, *, where: str, low: float = -math.inf, high: float = math.inf,
             low_open: bool = False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` if ``low_open``)."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number))
    ok = ok and math.isfinite(value) and (value > low if low_open else value >= low)
    if not (ok and value <= high):
        bound = f"{'>' if low_open else '>='} {low:g}" + (f" and <= {high:g}"
                                                          if high < math.inf else "")
        raise UserInputError(f"{where} must be a finite number {bound}, got {value!r}")
    return float(value)


def as_symbol(value: Any, *, where: str) -> str:
    """``value`` as a chemical symbol such as ``"Li"``."""
    from ase.data import atomic_numbers

    if not isinstance(value, str) or value not in atomic_numbers or value == "X":
        raise UserInputError(f"{where} must be a chemical symbol such as 'Li', got {value!r}")
    return value


def indices_of(atoms: Atoms, symbol: str, *, where: str) -> np.ndarray:
    """Indices (shape (n,)) of the atoms of ``symbol``; raise when there are none."""
    idx = np.flatnonzero(np.asarray(atoms.get_chemical_symbols()) == symbol)
    if not len(idx):
        raise UserInputError(f"{where}: the structure ({atoms.get_chemical_formula()}) has no "
                             f"{symbol} atoms; choose a species it contains")
    return idx


def require_cell(atoms: Atoms, *, where: str) -> None:
    """Raise unless ``atoms`` has a 3D cell (volume > 0)."""
    if atoms.cell.rank < 3 or abs(atoms.cell.volume) < 1e-9:
        raise UserInputError(f"{where} needs a structure with a 3D cell (volume > 0); this one "
                             f"has cell {atoms.cell.cellpar().round(3).tolist()}")


# ----------------------------------------------------------------------------- distance checks
def closest_pair_below(atoms: Atoms, min_distance_A: float) -> tuple[int, int, float] | None:
    """The closest pair of atoms nearer than ``min_distance_A`` Å, or None (0 disables)."""
    from ssestudio.md.checks import closest_pair

    if min_distance_A <= 0 or len(atoms) < 2:
        return None
    return closest_pair(atoms, min_distance_A)


def _pair_text(atoms: Atoms, pair: tuple[int, int, float]) -> str:
    i, j, d = pair
    return f"atoms {i} ({atoms[i].symbol}) and {j} ({atoms[j].symbol}) are {d:.3f} Å apart"


def check_sane(atoms: Atoms, *, min_distance_A: float, where: str) -> None:
    """Raise :class:`GeneratorError` if positions are non-finite or atoms too close."""
    if not np.isfinite(atoms.positions).all() or not np.isfinite(atoms.cell[:]).all():
        raise GeneratorError(f"{where} produced non-finite positions or cell")
    pair = closest_pair_below(atoms, min_distance_A)
    if pair is not None:
        raise GeneratorError(f"{where} produced a structure where {_pair_text(atoms, pair)} "
                             f"(minimum {min_distance_A:g} Å); use gentler parameters, check "
                             "the input structure, or lower min_distance_A")


def draw_until_sane(make: Callable[[], Atoms], *, min_distance_A: float,
                    where: str) -> Atoms:
    """Call ``make()`` until its structure has no pair closer than ``min_distance_A``.

    Each call must draw fresh random numbers from the generator's ``rng``, so the sequence
    of attempts, hence the result, is reproducible.

    Raises
    ------
    GeneratorError
        After :data:`MAX_ATTEMPTS` failed attempts.
    """
    pair = None
    for _ in range(MAX_ATTEMPTS):
        atoms = make()
        pair = closest_pair_below(atoms, min_distance_A)
        if pair is None and np.isfinite(atoms.positions).all():
            return atoms
    detail = _pair_text(atoms, pair) if pair is not None else "positions are non-finite"
    raise GeneratorError(f"{where}: {MAX_ATTEMPTS} random attempts all failed the distance "
                         f"check ({detail}, minimum {min_distance_A:g} Å); lower the "
                         "amplitude or min_distance_A")


# ----------------------------------------------------------------------------- application
def _input_provenance(atoms: Atoms) -> dict[str, Any]:
    prov = atoms.info.get("provenance")
    if isinstance(prov, str):
        try:
            prov = json.loads(prov)
        except json.JSONDecodeError:
            prov = None
    if prov is None:
        return {"generators": []}
    if not isinstance(prov, Mapping):
        raise UserInputError(f"atoms.info['provenance'] must be a dict, got {type(prov).__name__}"
                             "; remove it or store a dict")
    prov = copy.deepcopy(dict(prov))
    prov.pop("level", None)  # the output is unlabelled
    prov["generators"] = list(prov.get("generators") or [])
    return prov


def _finish(out: Atoms, provenance: dict[str, Any], step: dict[str, Any], *,
            min_distance_A: float) -> Atoms:
    notes = json_ready(out.info.pop(STEP_NOTES_KEY, None) or {}, where=f"{step['name']} notes")
    out.info = copy.deepcopy(out.info)
    out.calc = None
    prov = copy.deepcopy(provenance)
    prov["generators"].append({**copy.deepcopy(step), **notes})
    prov.update({k: notes[k] for k in PROVENANCE_NOTES if k in notes})
    out.info["provenance"] = prov
    check_sane(out, min_distance_A=min_distance_A, where=f"generator {step['name']!r}")
    return out


def apply_generator(atoms: Atoms, name: str, *, seed: int,
                    params: Mapping[str, Any] | None = None) -> list[Atoms]:
    """Apply generator ``name`` to one structure.

    Parameters
    ----------
    atoms : ase.Atoms
        Input structure (not modified).
    name : str
        Registered generator name (:func:`get_generator`).
    seed : int
        Seed (>= 0) of the generator's ``numpy.random.Generator``; recorded in provenance.
    params : dict, optional
        Generator parameters; missing ones take their defaults.

    Returns
    -------
    list of ase.Atoms
        New, unlabelled structures with the step appended to their provenance.

    Raises
    ------
    UserInputError
        Unknown generator or parameter, invalid value.
    GeneratorError
        An output failed the distance check, or the generator's MD exploded.
    """
    entry = get_generator(name)
    resolved = entry.resolve(params)
    seed = as_int(seed, where=f"{name} seed")
    min_distance_A = as_float(resolved[MIN_DISTANCE_PARAM], where=f"{name}.{MIN_DISTANCE_PARAM}",
                              low=0.0)
    accepted = inspect.signature(entry.function).parameters
    kwargs = {k: copy.deepcopy(v) for k, v in resolved.items() if k in accepted}
    outputs = entry.function(fresh_copy(atoms), rng=np.random.default_rng(seed), **kwargs)
    if not isinstance(outputs, list) or not all(hasattr(o, "positions") for o in outputs):
        raise TypeError(f"generator {name!r} must return a list of ase.Atoms")
    provenance = _input_provenance(atoms)
    step = {"name": name, "params": resolved, "seed": seed}
    return [_finish(out, provenance, step, min_distance_A=min_distance_A) for out in outputs]


def annotate(atoms: Atoms, **notes: Any) -> Atoms:
    """Leave JSON-ready ``notes`` for this output's provenance step; returns ``atoms``."""
    atoms.info.setdefault(STEP_NOTES_KEY, {}).update(notes)
    return atoms


def fresh_copy(atoms: Atoms) -> Atoms:
    """A copy whose ``info`` shares nothing with ``atoms`` (ASE's copy is shallow there),
    without calculator or step notes."""
    work = atoms.copy()
    work.info = copy.deepcopy(atoms.info)
    work.info.pop(STEP_NOTES_KEY, None)
    return work
