"""The interface every force-field model implements, and the registry of model families.

A model is a :class:`torch.nn.Module` that maps a structure to per-atom energies from the
vectors to its neighbours (:meth:`ForceFieldModel.atomic_energies`). Everything else is
shared and exact, for every family:

- energy = sum of atomic energies + per-element reference energies (eV);
- forces = -dE/dpositions (eV/Å) by automatic differentiation;
- stress = (1/V) dE/d(strain) (eV/Å³, ASE's sign), from the derivative with respect to a
  symmetric strain applied to positions and cell together (Knuth et al., Comput. Phys.
  Commun. 190, 33 (2015), doi:10.1016/j.cpc.2015.01.003).

Model families register themselves with :func:`register_family`; *presets* (``default``,
``large``, ``mace``) are named hyper-parameter sets of a family (:func:`register_preset`),
built with :func:`build_model`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ssestudio.core.errors import UserInputError
from ssestudio.models.graph import GraphBatch

#: Modules whose import registers the built-in families and presets.
_BUILTIN_MODULES = ("ssestudio.models.builtin", "ssestudio.models.mace_backend")


class ForceFieldModel(torch.nn.Module):
    """Base class of force-field models (subclass and register with :func:`register_family`).

    Parameters
    ----------
    elements : sequence of str
        Chemical symbols the model knows, in the order of ``species`` indices.
    cutoff_A : float
        Neighbour cutoff, Å.

    Notes
    -----
    Subclasses implement :meth:`atomic_energies` and :meth:`hyperparameters` (keyword
    arguments that rebuild the same architecture with ``family(elements, cutoff_A, **hp)``).
    Buffers ``reference_energies`` (eV per element) and ``energy_scale`` / ``energy_shift``
    (eV, scale and shift of the learned per-atom energy) are set by the trainer from data.
    """

    family: ClassVar[str] = ""
    #: whether :func:`ssestudio.models.serialization.export_torchscript` can script the model
    scriptable: ClassVar[bool] = True

    def __init__(self, elements: Sequence[str], cutoff_A: float) -> None:
        super().__init__()
        elements = [str(e) for e in elements]
        if not elements or len(set(elements)) != len(elements):
            raise UserInputError(f"a model needs a non-empty list of distinct elements, "
                                 f"got {elements}")
        if not cutoff_A > 0:
            raise UserInputError(f"cutoff_A must be positive, got {cutoff_A}")
        self.elements = elements
        self.cutoff_A = float(cutoff_A)
        n = len(elements)
        self.register_buffer("reference_energies", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("energy_scale", torch.ones((), dtype=torch.float64))
        self.register_buffer("energy_shift", torch.zeros((), dtype=torch.float64))

    # ---- what a family implements ---------------------------------------------------------
    def atomic_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                        vectors: torch.Tensor) -> torch.Tensor:
        """Learned (and repulsive) per-atom energies before scale, shift and references.

        Parameters
        ----------
        species : LongTensor, shape (n_atoms,)
        edge_index : LongTensor, shape (2, n_edges)
            Centre ``i`` and neighbour ``j`` (full list).
        vectors : Tensor, shape (n_edges, 3)
            ``r_j - r_i`` with periodic images, Å.

        Returns
        -------
        Tensor, shape (n_atoms,)
            Dimensionless learned energy (multiplied by ``energy_scale``) -- see
            :meth:`total_atomic_energies` for what is added.
        """
        raise NotImplementedError

    def repulsion_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                           vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies (eV) of a fixed short-range repulsion; zero unless overridden."""
        return torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)

    def hyperparameters(self) -> dict[str, Any]:
        """JSON-serialisable keyword arguments rebuilding this architecture."""
        raise NotImplementedError

    # ---- shared ---------------------------------------------------------------------------
    def total_atomic_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                              vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies, eV: scale * learned + shift + repulsion + element reference."""
        learned = self.atomic_energies(species, edge_index, vectors)
        dtype = vectors.dtype
        return (learned * self.energy_scale.to(dtype) + self.energy_shift.to(dtype)
                + self.repulsion_energies(species, edge_index, vectors)
                + self.reference_energies.to(dtype)[species])

    @torch.jit.unused
    def forward(self, batch: GraphBatch, *, forces: bool = True, stress: bool = False,
                create_graph: bool = False) -> dict[str, torch.Tensor]:
        """Energy, and optionally forces and stress, of every structure in ``batch``.

        Parameters
        ----------
        batch : GraphBatch
        forces, stress : bool
            Compute forces (eV/Å) / stress (eV/Å³, ASE sign; periodic structures only).
        create_graph : bool
            Keep the graph of the derivatives (needed to train on forces and stress).

        Returns
        -------
        dict
            ``energy`` (n_structures,), ``atomic_energies`` (n_atoms,), and ``forces``
            (n_atoms, 3) / ``stress`` (n_structures, 3, 3) when asked for.
        """
        return self.compute(batch.species, batch.positions, batch.cell, batch.batch,
                            batch.edge_index, batch.shifts, batch.n_structures, forces,
                            stress, create_graph)

    def compute(self, species: torch.Tensor, positions: torch.Tensor, cell: torch.Tensor,
                batch: torch.Tensor, edge_index: torch.Tensor, shifts: torch.Tensor,
                n_structures: int, forces: bool = True, stress: bool = False,
                create_graph: bool = False) -> dict[str, torch.Tensor]:
        """:meth:`forward` on plain tensors (shapes as in :class:`GraphBatch`; TorchScript)."""
        positions = positions.detach().requires_grad_(forces or stress)
        cell = cell.detach()
        inputs = [positions]
        if stress:
            displacement = torch.zeros_like(cell).requires_grad_(True)
            strain = 0.5 * (displacement + displacement.transpose(1, 2))
            inputs.append(displacement)
            eye = torch.eye(3, dtype=cell.dtype, device=cell.device)
            deform = eye + strain                                   # (n_structures, 3, 3)
            pos = torch.einsum("ai,aij->aj", positions, deform[batch])
            cell_used = torch.bmm(cell, deform)
        else:
            pos, cell_used = positions, cell
        i, j = edge_index[0], edge_index[1]
        vectors = pos[j] - pos[i] + torch.einsum("ei,eij->ej", shifts, cell_used[batch[i]])
        atomic = self.total_atomic_energies(species, edge_index, vectors)
        energy = torch.zeros(n_structures, dtype=atomic.dtype, device=atomic.device)
        energy = energy.index_add(0, batch, atomic)
        out = {"energy": energy, "atomic_energies": atomic}
        if forces or stress:
            grads = torch.autograd.grad([energy.sum()], inputs, create_graph=create_graph,
                                        allow_unused=True)
            if forces:
                g = grads[0]
                out["forces"] = -g if g is not None else torch.zeros_like(positions)
            if stress:
                g = grads[len(grads) - 1]
                volume = torch.abs(torch.linalg.det(cell))
                volume = torch.where(volume > 0, volume, torch.ones_like(volume))
                out["stress"] = (g if g is not None else torch.zeros_like(cell)) \
                    / volume[:, None, None]
        return out

    def set_reference_energies(self, values: Sequence[float] | torch.Tensor) -> None:
        """Set the per-element reference energies (eV), in the order of ``elements``."""
        values = torch.as_tensor(values, dtype=torch.float64)
        if values.shape != (len(self.elements),):
            raise ValueError(f"need {len(self.elements)} reference energies, got {values.shape}")
        self.reference_energies.copy_(values)

    def set_energy_scale(self, scale: float, shift: float = 0.0) -> None:
        """Scale (eV) and shift (eV) of the learned per-atom energy."""
        if not scale > 0:
            raise ValueError(f"energy scale must be positive, got {scale}")
        self.energy_scale.fill_(float(scale))
        self.energy_shift.fill_(float(shift))

    def describe(self) -> dict[str, Any]:
        """Family, elements, cutoff, hyper-parameters and number of parameters."""
        return {"family": self.family, "elements": list(self.elements),
                "cutoff_A": self.cutoff_A, "hyperparameters": self.hyperparameters(),
                "n_parameters": sum(p.numel() for p in self.parameters())}


# ---- registries -----------------------------------------------------------------------------
_FAMILIES: dict[str, type[ForceFieldModel]] = {}


@dataclass(frozen=True)
class Preset:
    """A named model: a family and its hyper-parameters.

    Attributes
    ----------
    name : str
        ``default``, ``large``, ``mace``, ...
    family : str
        Registered family.
    hyperparameters : dict
        Keyword arguments of the family (``cutoff_A`` included).
    description : str
        One line for listings (what it is for, rough cost).
    requires : tuple of (str, str)
        ``(module, install hint)`` the family needs.
    """

    name: str
    family: str
    hyperparameters: dict = field(default_factory=dict)
    description: str = ""
    requires: tuple[tuple[str, str], ...] = ()


_PRESETS: dict[str, Preset] = {}


def register_family(name: str) -> Callable[[type[ForceFieldModel]], type[ForceFieldModel]]:
    """Class decorator registering a :class:`ForceFieldModel` subclass as family ``name``."""
    def decorator(cls: type[ForceFieldModel]) -> type[ForceFieldModel]:
        if not (isinstance(cls, type) and issubclass(cls, ForceFieldModel)):
            raise TypeError(f"@register_family({name!r}) needs a ForceFieldModel subclass")
        cls.family = name
        _FAMILIES[name] = cls
        return cls
    return decorator


def register_preset(preset: Preset) -> Preset:
    """Register a named preset (replaces one of the same name)."""
    _PRESETS[preset.name] = preset
    return preset


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def model_family(name: str) -> type[ForceFieldModel]:
    """The class registered as family ``name``."""
    _load_builtins()
    if name not in _FAMILIES:
        raise UserInputError(f"unknown model family {name!r}; known: {', '.join(sorted(_FAMILIES))}")
    return _FAMILIES[name]


def presets() -> dict[str, Preset]:
    """All registered presets by name."""
    _load_builtins()
    return dict(_PRESETS)


def get_preset(name: str) -> Preset:
    """The preset ``name``, checking that its packages are installed.

    Raises
    ------
    UserInputError
        Unknown preset (the message lists them) or a missing optional package.
    """
    known = presets()
    if name not in known:
        raise UserInputError(f"unknown model {name!r}; choose one of {', '.join(sorted(known))}")
    preset = known[name]
    for module, hint in preset.requires:
        if importlib.util.find_spec(module) is None:
            raise UserInputError(f"model {name!r} needs the package `{module}`, which is not "
                                 f"installed: {hint}")
    return preset


def build_model(name: str, elements: Sequence[str], **overrides: Any) -> ForceFieldModel:
    """A new (untrained) model from a preset or family name.

    Parameters
    ----------
    name : str
        Preset (``default``, ``large``, ``mace``) or family name.
    elements : sequence of str
        Elements the model will know.
    **overrides
        Hyper-parameters replacing the preset's (``cutoff_A`` included).
    """
    known = presets()
    if name in known:
        preset = get_preset(name)
        family, params = preset.family, {**preset.hyperparameters, **overrides}
    elif name in _FAMILIES:
        family, params = name, dict(overrides)
    else:
        raise UserInputError(f"unknown model {name!r}; choose a preset "
                             f"({', '.join(sorted(known))}) or a model family "
                             f"({', '.join(sorted(_FAMILIES))})")
    cls = model_family(family)
    try:
        return cls(elements, **params)
    except TypeError as exc:
        raise UserInputError(f"invalid hyper-parameters for model {name!r}: {exc}") from exc
