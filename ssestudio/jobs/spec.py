"""Job specifications: frozen dataclasses registered by kind, serialised as JSON.

A spec says *what* to compute; :meth:`JobSpec.run` does it inside a worker, reporting
through a :class:`~ssestudio.jobs.context.JobContext`. Specs are stored as
``{"kind": ..., "module": ..., "params": {...}}``; ``module`` is the module defining
the spec class, imported by the worker before deserialising, so specs defined outside
``ssestudio`` (plugins, tests) work as long as that module is importable there.

Example::

    @register_job("sleep")
    @dataclass(frozen=True)
    class SleepSpec(JobSpec):
        seconds: float = 1.0

        def run(self, ctx):
            ...
            return {"slept_s": self.seconds}
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import json
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, TypeVar

from ssestudio.core.errors import UserInputError

if TYPE_CHECKING:
    from ssestudio.jobs.context import JobContext
    from ssestudio.workspace import Workspace

#: Modules whose import registers the built-in job kinds (later: MD, training, labelling).
BUILTIN_JOB_MODULES: tuple[str, ...] = ("ssestudio.jobs.builtin", "ssestudio.jobs.md",
                                         "ssestudio.jobs.transport", "ssestudio.jobs.dataset",
                                         "ssestudio.jobs.training", "ssestudio.jobs.meltquench",
                                         "ssestudio.jobs.structure", "ssestudio.jobs.rotation")

_REGISTRY: dict[str, type["JobSpec"]] = {}
S = TypeVar("S", bound=type["JobSpec"])


@dataclasses.dataclass(frozen=True)
class JobSpec(abc.ABC):
    """Base class of job specs (subclasses are frozen dataclasses registered by kind)."""

    kind: ClassVar[str] = ""
    #: seconds a cooperative job of this kind gets after a cancel request before the local
    #: executor sends SIGTERM (None: the executor's default); longer for jobs whose cancel
    #: ends them gracefully (training validates, checkpoints and evaluates first)
    cancel_grace_s: ClassVar[float | None] = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check and normalise fields (use ``object.__setattr__``); raise UserInputError."""

    def preflight(self, workspace: "Workspace") -> None:
        """Checks needing the environment (files exist, ...), run once at submit time."""

    @abc.abstractmethod
    def run(self, ctx: "JobContext") -> dict:
        """Do the work; return a JSON-serialisable result dict."""

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "module", "params"}``, JSON-serialisable (tuples become lists)."""
        params = json.loads(json.dumps(dataclasses.asdict(self)))
        return {"kind": self.kind, "module": type(self).__module__, "params": params}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> "JobSpec":
        """Rebuild a spec written by :meth:`to_dict`, importing its module if needed.

        Raises
        ------
        UserInputError
            Unknown kind, unimportable module, or unknown / missing / invalid fields.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("kind"), str):
            raise UserInputError(f"a job spec must be a dict with a 'kind', got {data!r}")
        cls = get_job_class(data["kind"], module=data.get("module"))
        params = dict(data.get("params", {}))
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        unknown = sorted(set(params) - set(fields))
        missing = sorted(n for n, f in fields.items() if n not in params
                         and f.default is dataclasses.MISSING
                         and f.default_factory is dataclasses.MISSING)
        if unknown or missing:
            raise UserInputError(
                f"invalid parameters for job kind {cls.kind!r}: unknown {unknown}, missing "
                f"{missing}; valid parameters are {sorted(fields)}")
        try:
            return cls(**params)
        except TypeError as exc:
            raise UserInputError(f"invalid parameters for job kind {cls.kind!r}: {exc}") from exc


def register_job(kind: str) -> Callable[[S], S]:
    """Class decorator registering a frozen :class:`JobSpec` dataclass under ``kind``.

    Raises
    ------
    TypeError
        If the class is not a frozen dataclass subclassing JobSpec.
    ValueError
        If another class already registered ``kind``.
    """
    def decorator(cls: S) -> S:
        if not (isinstance(cls, type) and issubclass(cls, JobSpec)
                and dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):
            raise TypeError(f"@register_job({kind!r}) needs a @dataclass(frozen=True) "
                            f"subclass of JobSpec, got {cls!r}")
        old = _REGISTRY.get(kind)
        if old is not None and _qualname(old) != _qualname(cls):
            raise ValueError(f"job kind {kind!r} is already registered by {_qualname(old)}; "
                             "choose another kind")
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls
    return decorator


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _load_builtins() -> None:
    for module in BUILTIN_JOB_MODULES:
        importlib.import_module(module)


def get_job_class(kind: str, *, module: str | None = None) -> type[JobSpec]:
    """The spec class registered under ``kind``, importing ``module`` first if needed."""
    if kind not in _REGISTRY:
        _load_builtins()
    if kind not in _REGISTRY and module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UserInputError(
                f"job kind {kind!r} is defined in module {module!r}, which cannot be imported "
                f"here ({exc}): install it or add it to PYTHONPATH where workers run") from exc
    if kind not in _REGISTRY:
        raise UserInputError(f"unknown job kind {kind!r}; known kinds: "
                             f"{', '.join(job_kinds())}")
    return _REGISTRY[kind]


def job_kinds() -> list[str]:
    """Names of the registered job kinds (built-ins included)."""
    _load_builtins()
    return sorted(_REGISTRY)
