"""Teachers: pretrained models (or any ASE calculator) that label configurations offline.

A teacher is a named recipe over the calculator registry (:mod:`ssestudio.calculators`):
which calculator, with which options, and the *level* string recorded in every label it
produces (``"sevenn:7net-0"``). Calculators are built lazily and cached per process, so a
worker that labels many batches loads its model once. Where the backing model predicts a
batch of structures in one call (CHGNet), :func:`label_batch` uses it on a GPU (on a CPU
it was 8x slower than one by one, so there it is not used).

Built-ins (optional extras: ``pip install -e ".[teacher]"``):

* ``sevenn`` (default): SevenNet-0, Park et al., J. Chem. Theory Comput. 20, 4857 (2024),
  doi:10.1021/acs.jctc.4c00190; force MAE ~0.16-0.21 eV/Å on Li-P-S AIMD (NOTES.md).
* ``sevenn-l3i5``: the larger SevenNet l3i5 model (more accurate, ~2.5x slower).
* ``chgnet``: CHGNet 0.3.0, Deng et al., Nat. Mach. Intell. 5, 1031 (2023),
  doi:10.1038/s42256-023-00716-3 (fastest; MAE ~0.27-0.32 eV/Å).

Any other calculator: ``"emt"``, ``"lj"`` or ``"module.path:ClassName"`` (level = its name).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ase import Atoms

from ssestudio.core.errors import UserInputError

_log = logging.getLogger(__name__)
#: One label result: (labels dict or None, error sentence or None).
Label = tuple[dict | None, str | None]
BatchFn = Callable[[Any, Sequence[Atoms], int], list[Label]]


@dataclass(frozen=True)
class Teacher:
    """A labelling recipe.

    Attributes
    ----------
    name : str
        Registry name.
    calculator : str
        Calculator registry name or ``module:Class``.
    options : dict
        Calculator options.
    level : str
        Recorded as the label's level of theory.
    description : str
        One line for listings.
    batch : callable or None
        ``batch(calculator, configurations, batch_size) -> list[Label]`` when the model
        predicts several structures per call.
    """

    name: str
    calculator: str
    options: dict = field(default_factory=dict)
    level: str = ""
    description: str = ""
    batch: BatchFn | None = None

    def build(self):
        """The (cached) ASE calculator."""
        from ssestudio.calculators import get_calculator

        return get_calculator(self.calculator, **self.options)


def _chgnet_batch(calc, configurations: Sequence[Atoms], batch_size: int) -> list[Label]:
    """CHGNet's batched ``predict_structure`` (energies eV/atom -> eV, stress GPa -> eV/Å^3)."""
    from ase.units import GPa
    from pymatgen.io.ase import AseAtomsAdaptor

    structures = [AseAtomsAdaptor.get_structure(a) for a in configurations]
    predictions = calc.model.predict_structure(structures, task="efs", batch_size=batch_size)
    if isinstance(predictions, dict):
        predictions = [predictions]
    out = []
    for atoms, p in zip(configurations, predictions):
        out.append(({"energy": float(p["e"]) * len(atoms), "forces": np.asarray(p["f"], float),
                     "stress": _as_voigt(np.asarray(p["s"], float)) * GPa}, None))
    return out


def _as_voigt(s: np.ndarray) -> np.ndarray:
    from ase.stress import full_3x3_to_voigt_6_stress

    return s if s.shape == (6,) else full_3x3_to_voigt_6_stress(s)


TEACHERS: dict[str, Teacher] = {
    "sevenn": Teacher("sevenn", "sevenn", {"model": "7net-0"}, "sevenn:7net-0",
                      "SevenNet-0 (default; offline weights in the sevenn wheel)"),
    "sevenn-l3i5": Teacher("sevenn-l3i5", "sevenn", {"model": "7net-l3i5"}, "sevenn:7net-l3i5",
                           "SevenNet l3i5 (more accurate, ~2.5x slower)"),
    "chgnet": Teacher("chgnet", "chgnet", {}, "chgnet:0.3.0",
                      "CHGNet 0.3.0 (fastest on CPU; batched on a GPU)", batch=_chgnet_batch),
}
DEFAULT_TEACHER = "sevenn"


def register_teacher(teacher: Teacher) -> Teacher:
    """Add (or replace) a teacher in :data:`TEACHERS`."""
    TEACHERS[teacher.name] = teacher
    return teacher


def get_teacher(name: str = DEFAULT_TEACHER, *, options: dict | None = None) -> Teacher:
    """The teacher ``name``: a registered one, or any calculator name / ``module:Class``.

    Parameters
    ----------
    name : str
        Teacher or calculator name.
    options : dict, optional
        Calculator options added to (overriding) the teacher's.

    Raises
    ------
    UserInputError
        Neither a teacher nor a calculator of that name.
    """
    from ssestudio.calculators import check_calculator

    options = dict(options or {})
    if name in TEACHERS:
        base = TEACHERS[name]
        merged = {**base.options, **options}
        level = base.level if merged == base.options else f"{base.level}{_suffix(options)}"
        return Teacher(base.name, base.calculator, merged, level, base.description, base.batch)
    try:
        check_calculator(name)
    except UserInputError as exc:
        raise UserInputError(f"unknown teacher {name!r}: use one of {', '.join(TEACHERS)}, a "
                             f"calculator name, or 'module.path:ClassName' ({exc})") from None
    return Teacher(name, name, options, f"{name}{_suffix(options)}", f"calculator {name}")


def _suffix(options: dict) -> str:
    return "" if not options else "(" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + ")"


def available_teachers() -> list[dict]:
    """Each registered teacher with whether its packages are installed here."""
    from ssestudio.calculators import available_calculators

    installed = {c.name for c in available_calculators(installed_only=True)}
    return [{"name": t.name, "level": t.level, "description": t.description,
             "installed": t.calculator in installed} for t in TEACHERS.values()]


def label_batch(teacher: Teacher, configurations: Sequence[Atoms], *, batch_size: int = 8
                ) -> list[Label]:
    """Energy, forces and stress of each configuration by ``teacher``.

    A configuration whose calculation raises is returned with its error instead of labels
    (the others are still labelled); the batched path falls back to one-by-one when the
    whole batch fails.

    Parameters
    ----------
    teacher : Teacher
    configurations : sequence of Atoms, length n
    batch_size : int
        Structures per model call where the teacher batches.

    Returns
    -------
    list of (labels or None, error or None), length n
        ``labels``: ``energy`` (eV), ``forces`` (eV/Å, (N, 3)), ``stress`` (eV/Å^3, Voigt 6,
        ASE sign) when the calculator provides it for a periodic cell.
    """
    calc = teacher.build()
    if teacher.batch is not None and len(configurations) > 1 and _on_accelerator(teacher):
        try:
            return teacher.batch(calc, configurations, batch_size)
        except Exception as exc:  # noqa: BLE001 - fall back to one-by-one, errors per structure
            _log.warning("batched labelling with %s failed (%s); labelling one by one",
                         teacher.name, exc)
    return [_label_one(calc, atoms) for atoms in configurations]


def _on_accelerator(teacher: Teacher) -> bool:
    """Batched calls only pay off on a GPU: on this 2-core CPU CHGNet's batched
    ``predict_structure`` gave 0.54 configurations/s against 4.45 one by one (16 x 128-atom
    Li3PS4 cells, 1 thread, 2026-11-26), so on CPU the teacher labels one by one."""
    return str(teacher.options.get("device", "cpu")).lower() != "cpu"


def _label_one(calc, atoms: Atoms) -> Label:
    work = atoms.copy()
    work.calc = calc
    try:
        labels = {"energy": float(work.get_potential_energy()),
                  "forces": np.array(work.get_forces(), dtype=float)}
        if work.pbc.all() and "stress" in getattr(calc, "implemented_properties", ()):
            labels["stress"] = np.array(work.get_stress(voigt=True), dtype=float)
    except Exception as exc:  # noqa: BLE001 - any calculator failure is a per-row rejection
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        work.calc = None
    return labels, None
