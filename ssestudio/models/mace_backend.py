"""MACE as a model family (``"mace"``), optional: needs ``mace-torch``.

MACE (Batatia et al., NeurIPS 2022, arXiv:2206.07697) is an equivariant message-passing
network with higher-order (ACE-like) many-body messages. This module builds a
``mace.modules.MACE`` from hyper-parameters and runs its blocks -- node embedding,
spherical harmonics of the edge vectors, radial embedding, interaction + product layers,
per-layer readouts -- on the edge vectors that :class:`~ssestudio.models.base.ForceFieldModel`
gives, so that the dataset, trainer, checkpoints and calculators are the same as for the
built-in family: forces and stress come from the shared autograd code, and the per-element
reference energies, energy scale and shift are the base class's (MACE's own ``E0`` block
is left at zero and not used).

Edge convention: ours is ``vectors[e] = r_j - r_i`` for ``(i, j) = edge_index[:, e]``,
MACE's is ``r_receiver - r_sender`` for ``(sender, receiver) = edge_index[:, e]``, i.e. the
same arrays (with a full neighbour list every atom receives from all its neighbours).

Cost (NOTES.md, 2-core CPU): the ``mace`` preset (32 invariant channels) is ~10-50x slower
per MD step than the built-in ``default``; use it when accuracy per training structure
matters more than MD length. Tested with mace-torch 0.3.16 (which pins e3nn 0.4.4).

Importing this module never imports ``mace`` or ``e3nn``; the model's constructor does
(:func:`import_mace`), and raises :class:`~ssestudio.core.errors.UserInputError` with the
install hint when the package is missing.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from ase.data import atomic_numbers

from ssestudio.core.errors import UserInputError
from ssestudio.models.base import ForceFieldModel, Preset, register_family, register_preset

INSTALL_HINT = "pip install 'ssestudio[mace]' (mace-torch; see README for the e3nn pin)"
_ENV = "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"


def import_mace() -> Any:
    """``mace.modules``, imported before e3nn is first used.

    ``import mace`` sets ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` so that e3nn 0.4.4 can
    ``torch.load`` its constants; that variable would turn every later ``torch.load``
    without an explicit ``weights_only`` into a full unpickle, so it is restored once the
    import is done (e3nn reads its constants at import time only).

    Raises
    ------
    UserInputError
        mace-torch is not installed, or e3nn was imported before it and failed.
    """
    before = os.environ.get(_ENV)
    try:
        # mace prints a note about (GPU-only) cuequivariance to stdout; e3nn warns about _ENV
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
            return importlib.import_module("mace.modules")
    except ModuleNotFoundError as exc:
        raise UserInputError(f"the MACE model needs the package `mace` ({exc.name} is "
                             f"missing): {INSTALL_HINT}") from exc
    except Exception as exc:  # e3nn 0.4.4 imported first under weights-only torch.load
        raise UserInputError(f"mace-torch could not be imported ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}); import "
                             "ssestudio's MACE model before anything that imports e3nn")
    finally:
        if before is None:
            os.environ.pop(_ENV, None)
        else:
            os.environ[_ENV] = before


def hidden_irreps(channels: int, max_L: int) -> str:
    """MACE's hidden irreps: ``channels`` features of each l <= max_L with parity (-1)^l."""
    return "+".join(f"{channels}x{ell}{'e' if ell % 2 == 0 else 'o'}"
                    for ell in range(max_L + 1))


@register_family("mace")
class MACEModel(ForceFieldModel):
    """A MACE network (mace-torch) on SSE Studio's graphs.

    Parameters
    ----------
    elements : sequence of str
    cutoff_A : float
        MACE's ``r_max``, Å.
    channels : int
        Features per irrep (MACE's ``num_channels``).
    max_L : int
        Highest l of the hidden features (0: invariant messages, fastest; 1-2: equivariant).
    max_ell : int
        Highest l of the edge spherical harmonics.
    correlation : int
        Body order of the product basis minus one.
    num_interactions : int
        Message-passing layers (receptive field ``num_interactions * cutoff_A``).
    num_bessel, num_polynomial_cutoff : int
        Radial Bessel functions and the order of the polynomial cutoff envelope.
    radial_mlp : sequence of int
        Hidden widths of the radial network.
    mlp_hidden : int
        Width of the nonlinear readout (``MLP_irreps = "{mlp_hidden}x0e"``, SiLU gate).
    avg_num_neighbors : float
        Normalisation of the messages (about the mean neighbour count within the cutoff).
    pair_repulsion : bool
        Add MACE's fixed ZBL core (eV, outside the learned scale) below the sum of the
        covalent radii.

    Notes
    -----
    Not TorchScript-exportable through SSE Studio (``scriptable = False``).
    """

    scriptable = False

    def __init__(self, elements: Sequence[str], cutoff_A: float = 5.0, *, channels: int = 32,
                 max_L: int = 0, max_ell: int = 3, correlation: int = 3,
                 num_interactions: int = 2, num_bessel: int = 8,
                 num_polynomial_cutoff: int = 5, radial_mlp: Sequence[int] = (64, 64, 64),
                 mlp_hidden: int = 16, avg_num_neighbors: float = 26.0,
                 pair_repulsion: bool = True) -> None:
        super().__init__(elements, cutoff_A)
        if not 0 <= max_L <= max_ell:
            raise ValueError(f"need 0 <= max_L <= max_ell, got max_L={max_L}, "
                             f"max_ell={max_ell}")
        if num_interactions < 2:
            raise ValueError("num_interactions must be at least 2")
        self._hp = dict(channels=int(channels), max_L=int(max_L), max_ell=int(max_ell),
                        correlation=int(correlation), num_interactions=int(num_interactions),
                        num_bessel=int(num_bessel),
                        num_polynomial_cutoff=int(num_polynomial_cutoff),
                        radial_mlp=[int(w) for w in radial_mlp], mlp_hidden=int(mlp_hidden),
                        avg_num_neighbors=float(avg_num_neighbors),
                        pair_repulsion=bool(pair_repulsion))
        modules = import_mace()
        from e3nn import o3  # after mace (see import_mace)

        with warnings.catch_warnings():   # e3nn's codegen, harmless TorchScript notes
            warnings.filterwarnings("ignore", message=".*TorchScript type system")
            self.mace = self._build(modules, o3)

    def _build(self, modules: Any, o3: Any) -> torch.nn.Module:
        hp = self._hp
        return modules.MACE(
            r_max=self.cutoff_A, num_bessel=hp["num_bessel"],
            num_polynomial_cutoff=hp["num_polynomial_cutoff"], max_ell=hp["max_ell"],
            interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
            interaction_cls_first=modules.interaction_classes["RealAgnosticInteractionBlock"],
            num_interactions=hp["num_interactions"], num_elements=len(self.elements),
            hidden_irreps=o3.Irreps(hidden_irreps(hp["channels"], hp["max_L"])),
            MLP_irreps=o3.Irreps(f"{hp['mlp_hidden']}x0e"),
            atomic_energies=torch.zeros(len(self.elements)).numpy(),
            avg_num_neighbors=hp["avg_num_neighbors"],
            atomic_numbers=[atomic_numbers[e] for e in self.elements],
            correlation=hp["correlation"], gate=torch.nn.functional.silu,
            pair_repulsion=hp["pair_repulsion"], radial_MLP=hp["radial_mlp"])

    def hyperparameters(self) -> dict[str, Any]:
        """Keyword arguments rebuilding this architecture."""
        return dict(self._hp)

    def _node_attrs(self, species: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return torch.nn.functional.one_hot(species, len(self.elements)).to(dtype)

    def atomic_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                        vectors: torch.Tensor) -> torch.Tensor:
        """Sum over layers of MACE's readouts (dimensionless; scaled by ``energy_scale``)."""
        m = self.mace
        node_attrs = self._node_attrs(species, vectors.dtype)
        lengths = torch.linalg.norm(vectors, dim=-1, keepdim=True)
        node_feats = m.node_embedding(node_attrs)
        edge_attrs = m.spherical_harmonics(vectors)
        radial = m.radial_embedding(lengths, node_attrs, edge_index, m.atomic_numbers)
        edge_feats, cutoff = radial if isinstance(radial, tuple) else (radial, None)
        energy = torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)
        layer_feats = []
        for k, (interaction, product) in enumerate(zip(m.interactions, m.products)):
            node_feats, sc = interaction(node_attrs=node_attrs, node_feats=node_feats,
                                         edge_attrs=edge_attrs, edge_feats=edge_feats,
                                         edge_index=edge_index, cutoff=cutoff,
                                         first_layer=k == 0)
            node_feats = product(node_feats=node_feats, sc=sc, node_attrs=node_attrs)
            layer_feats.append(node_feats)
        for k, readout in enumerate(m.readouts):
            feats = layer_feats[-1] if len(m.readouts) == 1 else layer_feats[k]
            energy = energy + readout(feats)[:, 0]
        return energy

    def repulsion_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                           vectors: torch.Tensor) -> torch.Tensor:
        """MACE's ZBL core per atom (eV), when ``pair_repulsion``."""
        if not self._hp["pair_repulsion"]:
            return super().repulsion_energies(species, edge_index, vectors)
        m = self.mace
        lengths = torch.linalg.norm(vectors, dim=-1, keepdim=True)
        return m.pair_repulsion_fn(lengths, self._node_attrs(species, vectors.dtype),
                                   edge_index, m.atomic_numbers)


register_preset(Preset(
    name="mace", family="mace",
    hyperparameters=dict(cutoff_A=5.0, channels=32, max_L=0, max_ell=3, correlation=3,
                         num_interactions=2, num_bessel=8, num_polynomial_cutoff=5,
                         mlp_hidden=16, avg_num_neighbors=26.0, pair_repulsion=True),
    description="MACE (mace-torch), 5 Å, 2 layers, 32 invariant channels: more accurate "
                "per training structure, ~10-50x slower MD than 'default'",
    requires=(("mace", INSTALL_HINT),)))
