"""Registry of energy/force calculators, looked up by name.

A calculator is anything speaking ASE's calculator contract (``get_potential_energy``,
``get_forces``). Built-ins are registered by name in :mod:`ssestudio.calculators.builtin`
with the packages they need; any other calculator is reached by an import path
``"module.path:ClassName"`` whose object is called with the options as keyword arguments.
Expensive calculators (ML models) are built once per process and cached, so a worker
that runs several MD segments loads its model once.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from ssestudio.core.errors import UserInputError

if TYPE_CHECKING:
    from ase.calculators.calculator import BaseCalculator

#: Modules whose import registers the built-in calculators.
_BUILTIN_MODULES = ("ssestudio.calculators.builtin",)

Factory = Callable[..., "BaseCalculator"]


class CalculatorUnavailableError(UserInputError):
    """A calculator needs a package that is not installed here."""


@dataclass(frozen=True)
class CalculatorEntry:
    """One registered calculator.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"emt"``.
    factory : callable
        ``factory(**options)`` returns a new ASE calculator.
    requires : tuple of (str, str)
        ``(module, install hint)`` for each importable package the factory needs.
    description : str
        One line shown in listings.
    cache : bool
        Build once per process and options, then reuse (for models costly to load).
    """

    name: str
    factory: Factory
    requires: tuple[tuple[str, str], ...] = ()
    description: str = ""
    cache: bool = False


@dataclass(frozen=True)
class CalculatorInfo:
    """Whether a calculator can be used here (from :func:`available_calculators`).

    Attributes
    ----------
    name : str
        Registry name or import path.
    description : str
        One line.
    available : bool
        All required packages are importable (checked without importing them).
    missing : tuple of str
        Required packages that are not installed.
    install_hint : str
        How to install the first missing package ('' when available).
    """

    name: str
    description: str
    available: bool
    missing: tuple[str, ...]
    install_hint: str


_REGISTRY: dict[str, CalculatorEntry] = {}
_CACHE: dict[tuple[str, str], "BaseCalculator"] = {}


def register_calculator(name: str, *, requires: dict[str, str] | None = None,
                        description: str = "", cache: bool = False
                        ) -> Callable[[Factory], Factory]:
    """Decorator registering ``factory(**options) -> calculator`` under ``name``.

    Parameters
    ----------
    name : str
        Registry name (no ``":"``, which marks import paths).
    requires : dict, optional
        ``{module: install hint}`` of the packages the factory imports.
    description : str
        One line for listings.
    cache : bool
        Reuse one instance per process and options (ML models).

    Raises
    ------
    ValueError
        If ``name`` contains ``":"`` or is empty.
    """
    if not name or ":" in name:
        raise ValueError(f"calculator name {name!r} must be non-empty and contain no ':' "
                         "(':' marks 'module.path:ClassName' import paths)")

    def decorator(factory: Factory) -> Factory:
        _REGISTRY[name] = CalculatorEntry(name, factory, tuple((requires or {}).items()),
                                          description, cache)
        return factory
    return decorator


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def _is_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _import_path_entry(path: str) -> CalculatorEntry:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise UserInputError(f"calculator import path {path!r} must look like "
                             "'module.path:ClassName'")
    top = module.split(".")[0]

    def factory(**options: Any) -> "BaseCalculator":
        try:
            obj = importlib.import_module(module)
        except ImportError as exc:
            raise CalculatorUnavailableError(
                f"cannot import module {module!r} for calculator {path!r} ({exc}): install "
                "the package that provides it or fix the path") from exc
        for part in attr.split("."):
            if not hasattr(obj, part):
                raise UserInputError(f"module {module!r} has no attribute {attr!r}: check the "
                                     f"calculator path {path!r}")
            obj = getattr(obj, part)
        return obj(**options)

    return CalculatorEntry(path, factory, ((top, f"pip install {top}"),),
                           f"{attr} from {module}", cache=True)


def _entry(name: str) -> CalculatorEntry:
    if not isinstance(name, str) or not name.strip():
        raise UserInputError(f"calculator name must be a non-empty string, got {name!r}")
    name = name.strip()
    if ":" in name:
        return _import_path_entry(name)
    _load_builtins()
    if name not in _REGISTRY:
        raise UserInputError(
            f"unknown calculator {name!r}; registered calculators: {', '.join(sorted(_REGISTRY))}"
            " (or give an import path 'module.path:ClassName')")
    return _REGISTRY[name]


def _info(entry: CalculatorEntry) -> CalculatorInfo:
    missing = [(module, hint) for module, hint in entry.requires if not _is_installed(module)]
    return CalculatorInfo(name=entry.name, description=entry.description,
                          available=not missing, missing=tuple(m for m, _ in missing),
                          install_hint=missing[0][1] if missing else "")


def available_calculators(*, installed_only: bool = False) -> list[CalculatorInfo]:
    """The registered calculators and whether each can be used here.

    Availability is checked with :func:`importlib.util.find_spec`: nothing heavy is imported.

    Parameters
    ----------
    installed_only : bool
        List only those whose packages are installed.

    Returns
    -------
    list of CalculatorInfo
        Sorted by name.
    """
    _load_builtins()
    infos = [_info(_REGISTRY[name]) for name in sorted(_REGISTRY)]
    return [i for i in infos if i.available or not installed_only]


def check_calculator(name: str) -> CalculatorInfo:
    """Check cheaply (no model loaded) that calculator ``name`` can be built here.

    Raises
    ------
    UserInputError
        Unknown name (the message lists the registered ones) or malformed import path.
    CalculatorUnavailableError
        A required package is not installed (the message says how to install it).
    """
    entry = _entry(name)
    info = _info(entry)
    if not info.available:
        raise CalculatorUnavailableError(
            f"`{info.missing[0]}` is not installed: {info.install_hint}; calculator "
            f"{entry.name!r} needs it (installed calculators: "
            f"{', '.join(i.name for i in available_calculators(installed_only=True))})")
    return info


def _cache_key(name: str, options: dict[str, Any]) -> tuple[str, str]:
    return name, json.dumps(options, sort_keys=True, default=repr)


def _check_options(entry: CalculatorEntry, options: dict[str, Any]) -> None:
    """Bind ``options`` to the factory's signature; unknown names become UserInputError."""
    signature = inspect.signature(entry.factory)
    try:
        signature.bind(**options)
    except TypeError as exc:
        accepted = [p.name for p in signature.parameters.values()
                    if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        raise UserInputError(f"calculator {entry.name!r} does not accept options "
                             f"{sorted(options)} ({exc}); its options are: "
                             f"{', '.join(accepted) or 'none'}") from exc


def get_calculator(name: str, **options: Any) -> "BaseCalculator":
    """Build (or fetch from the per-process cache) the calculator ``name``.

    Parameters
    ----------
    name : str
        Registered name (:func:`available_calculators`) or ``"module.path:ClassName"``.
    **options
        Keyword arguments of the calculator (see each built-in's docstring in
        :mod:`ssestudio.calculators.builtin`).

    Returns
    -------
    ase.calculators.calculator.BaseCalculator
        A calculator; cached ones are shared within the process (attach to one
        :class:`ase.Atoms` at a time).

    Raises
    ------
    UserInputError
        Unknown name, bad options, or the object built is not a calculator.
    CalculatorUnavailableError
        A required package is missing.
    """
    check_calculator(name)
    entry = _entry(name)
    key = _cache_key(entry.name, options)
    if entry.cache and key in _CACHE:
        return _CACHE[key]
    _check_options(entry, options)
    calc = entry.factory(**options)
    if not (callable(getattr(calc, "get_forces", None))
            and callable(getattr(calc, "get_potential_energy", None))):
        raise UserInputError(f"calculator {entry.name!r} built a {type(calc).__name__}, which "
                             "is not an ASE calculator (no get_forces/get_potential_energy)")
    if entry.cache:
        _CACHE[key] = calc
    return calc


def clear_calculator_cache() -> None:
    """Forget cached calculators (their models are freed once nothing else holds them)."""
    _CACHE.clear()
