"""The built-in force field: a moment-tensor descriptor network with a ZBL core.

Design (why this family)
------------------------
The review's Table 1 shows that most SSE studies need nanoseconds of MD and use fast,
local, descriptor-based models (MTP, DeePMD, NEP, HDNNP) at 1-10 meV/atom and
0.03-0.2 eV/Å; equivariant message-passing models (NequIP, MACE, Allegro) are more
accurate per data point but 10-100x slower per MD step on a CPU (NOTES.md: MACE ~2,300
atom-steps/s at its smallest, a Behler-Parrinello-like torch model ~120,000). So the
default is a *single-layer, local* model whose descriptors carry angular information the
way moment tensor potentials and ACE do, read out by a small per-element network as in
Behler-Parrinello / DeePMD:

1. Radial basis: ``n_basis`` spherical Bessel functions ``sqrt(2/rc) sin(n pi r/rc)/r``
   times the polynomial envelope of DimeNet (p = 6), which goes to zero at the cutoff with
   vanishing first and second derivatives (C2) -- Gasteiger et al., ICLR 2020,
   arXiv:2003.03123.
2. Learned radial channels ``R_c(r_ij)``: linear combinations of the basis whose weights
   depend on the (centre, neighbour) element pair.
3. Moment tensors per atom and channel, ``M_c^(l) = sum_j R_c(r_ij) u_ij^{(x)l}`` for
   l = 0..``max_l`` (``u`` the unit vector, the l = 2 moment made traceless) -- Shapeev,
   Multiscale Model. Simul. 14, 1153 (2016), doi:10.1137/15M1054183; Drautz, Phys. Rev. B
   99, 014104 (2019), doi:10.1103/PhysRevB.99.014104.
4. Rotation-invariant contractions: ``M^(0)``, ``M_c^(l) . M_c'^(l)`` for all channel
   pairs (three-body: these sum ``R_c(r_ij) R_c'(r_ik) P_l(cos theta_jik)`` over pairs of
   neighbours) and, in the ``large`` preset, the four-body ``M_c^(1) . M_c'^(2) . M_c^(1)``.
5. A per-element MLP (SiLU, smooth) maps the invariants to the atomic energy.
6. A fixed Ziegler-Biersack-Littmark universal repulsion (Ziegler, Biersack & Littmark,
   *The Stopping and Range of Ions in Solids*, Pergamon 1985; doi:10.1007/978-1-4615-8103-1_3)
   acts below ``zbl_outer`` x (sum of covalent radii) and is switched off smoothly (C2
   quintic) so that hot melts cannot collapse atoms onto each other where no training data
   exists; the network learns the rest.

Everything is local (one cutoff, no message passing), so cost is linear in atoms with a
small constant, forces are exact gradients, and the model is TorchScript-exportable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from ase.data import atomic_numbers, covalent_radii

from ssestudio.models.base import ForceFieldModel, Preset, register_family, register_preset



def polynomial_envelope(x: torch.Tensor, p: int = 6) -> torch.Tensor:
    """DimeNet envelope of ``x = r / r_c`` (1 at 0, C2-smooth zero at x >= 1)."""
    xp = x ** p if p != 6 else (x * x * x) ** 2
    value = (1.0 - 0.5 * (p + 1) * (p + 2) * xp + p * (p + 2) * xp * x
             - 0.5 * p * (p + 1) * xp * x * x)
    return torch.where(x < 1.0, value, torch.zeros_like(x))


def smooth_step_down(x: torch.Tensor) -> torch.Tensor:
    """1 for x <= 0, 0 for x >= 1, quintic in between (C2)."""
    x = x.clamp(0.0, 1.0)
    return 1.0 - x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)


class _ElementMLP(torch.nn.Module):
    def __init__(self, n_in: int, hidden: Sequence[int]) -> None:
        super().__init__()
        layers: list[torch.nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.SiLU()]
            width = h
        layers.append(torch.nn.Linear(width, 1))
        self.net = torch.nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


@register_family("moment")
class MomentNetwork(ForceFieldModel):
    """Moment-tensor descriptors + per-element MLP + ZBL core (see the module docstring).

    Parameters
    ----------
    elements : sequence of str
    cutoff_A : float
        Cutoff radius, Å.
    n_basis : int
        Radial Bessel functions.
    radial_channels : int
        Channels of the two-body (l = 0) moments.
    angular_channels : int
        Channels used for the l >= 1 moments (the first ones of the radial channels).
    max_l : int
        Highest moment rank, 1-3.
    four_body : bool
        Add the ``M1 . M2 . M1`` contractions.
    hidden : sequence of int
        Hidden layer widths of the per-element MLP.
    neighbor_norm : float
        Moments are divided by this (about the mean number of neighbours) to keep the
        invariants of order one.
    zbl : bool
        Add the ZBL repulsive core.
    zbl_inner, zbl_outer : float
        The ZBL switch runs from ``zbl_inner`` to ``zbl_outer`` times the sum of the two
        covalent radii.
    """

    def __init__(self, elements: Sequence[str], cutoff_A: float = 5.0, *, n_basis: int = 8,
                 radial_channels: int = 16, angular_channels: int = 8, max_l: int = 2,
                 four_body: bool = False, hidden: Sequence[int] = (64, 64),
                 neighbor_norm: float = 24.0, zbl: bool = True, zbl_inner: float = 0.5,
                 zbl_outer: float = 0.8) -> None:
        super().__init__(elements, cutoff_A)
        if not 1 <= max_l <= 3:
            raise ValueError(f"max_l must be 1, 2 or 3, got {max_l}")
        if angular_channels > radial_channels:
            raise ValueError("angular_channels cannot exceed radial_channels")
        if four_body and max_l < 2:
            raise ValueError("four_body needs max_l >= 2")
        if not 0 < zbl_inner < zbl_outer:
            raise ValueError("need 0 < zbl_inner < zbl_outer")
        self._hp = dict(n_basis=int(n_basis), radial_channels=int(radial_channels),
                        angular_channels=int(angular_channels), max_l=int(max_l),
                        four_body=bool(four_body), hidden=[int(h) for h in hidden],
                        neighbor_norm=float(neighbor_norm), zbl=bool(zbl),
                        zbl_inner=float(zbl_inner), zbl_outer=float(zbl_outer))
        n_el = len(self.elements)
        self.n_elements = n_el
        self.n_basis = int(n_basis)
        self.radial_channels = int(radial_channels)
        self.angular_channels = int(angular_channels)
        self.max_l = int(max_l)
        self.four_body = bool(four_body)
        self.neighbor_norm = float(neighbor_norm)
        self.use_zbl = bool(zbl)
        self.register_buffer("basis_freq", torch.arange(1, n_basis + 1, dtype=torch.float32)
                             * math.pi / self.cutoff_A)
        # radial weights per (centre, neighbour) pair: (n_pairs * n_basis, channels)
        w = torch.randn(n_el * n_el * n_basis, radial_channels) / math.sqrt(n_basis)
        self.radial_weights = torch.nn.Parameter(w)
        n_pairs_ch = angular_channels * (angular_channels + 1) // 2
        n_features = radial_channels + (max_l * n_pairs_ch)
        if four_body:
            n_features += angular_channels * angular_channels
        self.n_features = n_features
        self.feature_scale = torch.nn.Parameter(torch.ones(n_features))
        self.feature_shift = torch.nn.Parameter(torch.zeros(n_features))
        iu = torch.triu_indices(angular_channels, angular_channels)
        self.register_buffer("pair_rows", iu[0].clone())
        self.register_buffer("pair_cols", iu[1].clone())
        self.mlps = torch.nn.ModuleList([_ElementMLP(n_features, hidden) for _ in range(n_el)])
        z = torch.tensor([float(atomic_numbers[e]) for e in self.elements])
        rc = torch.tensor([float(covalent_radii[atomic_numbers[e]]) for e in self.elements])
        self.register_buffer("zbl_z", z)
        self.register_buffer("zbl_rcov", rc)
        self.zbl_inner = float(zbl_inner)
        self.zbl_outer = float(zbl_outer)

    def hyperparameters(self) -> dict[str, Any]:
        """Keyword arguments rebuilding this architecture."""
        return dict(self._hp)

    # ---- descriptors ------------------------------------------------------------------------
    def radial(self, species: torch.Tensor, edge_index: torch.Tensor,
               r: torch.Tensor) -> torch.Tensor:
        """Learned radial channels per edge, shape (n_edges, radial_channels)."""
        freq = self.basis_freq.to(r.dtype)
        x = r / self.cutoff_A
        basis = (math.sqrt(2.0 / self.cutoff_A) * torch.sin(r[:, None] * freq[None, :])
                 / r[:, None]) * polynomial_envelope(x)[:, None]            # (E, K)
        pair = species[edge_index[0]] * self.n_elements + species[edge_index[1]]
        # one small matrix product per element pair, over the edges of that pair
        weights = self.radial_weights.to(r.dtype).view(
            self.n_elements * self.n_elements, self.n_basis, self.radial_channels)
        order = torch.argsort(pair)
        counts: list[int] = torch.bincount(
            pair, minlength=self.n_elements * self.n_elements).tolist()
        pieces = torch.split(basis.index_select(0, order), counts)
        parts = [pieces[k] @ weights[k] for k in range(len(counts))]
        out = torch.empty(r.shape[0], self.radial_channels, dtype=r.dtype, device=r.device)
        return out.index_copy(0, order, torch.cat(parts, dim=0))

    def descriptors(self, species: torch.Tensor, edge_index: torch.Tensor,
                    vectors: torch.Tensor) -> torch.Tensor:
        """Rotation-invariant features per atom, shape (n_atoms, n_features).

        Neighbours are laid out densely per centre atom (``n_atoms x max_neighbours``) so
        that all moments come from one batched matrix product, which is several times
        faster on a CPU than scattering per-edge outer products.
        """
        n_atoms = species.shape[0]
        centre = edge_index[0]
        if centre.numel() > 1 and bool((centre[1:] < centre[:-1]).any()):
            order = torch.argsort(centre, stable=True)
            edge_index, vectors, centre = edge_index[:, order], vectors[order], centre[order]
        dtype, device = vectors.dtype, vectors.device
        r = torch.linalg.norm(vectors, dim=1)
        u = vectors / r[:, None]
        radial = self.radial(species, edge_index, r) / self.neighbor_norm      # (E, C)
        # angular parts: l = 0 (1), l = 1 (3), traceless l = 2 (9), l = 3 (27)
        parts = [torch.ones_like(r)[:, None], u]
        if self.max_l >= 2:
            eye = torch.eye(3, dtype=dtype, device=device)
            parts.append((u[:, :, None] * u[:, None, :] - eye / 3.0).reshape(-1, 9))
        if self.max_l >= 3:
            parts.append((u[:, :, None, None] * u[:, None, :, None]
                          * u[:, None, None, :]).reshape(-1, 27))
        angular = torch.cat(parts, dim=1)                                   # (E, n_y)
        # dense neighbour slots (edges are sorted by centre)
        counts = torch.bincount(centre, minlength=n_atoms)
        width = int(counts.max()) if centre.numel() > 0 else 1
        starts = torch.cumsum(counts, 0) - counts
        slot = torch.arange(centre.shape[0], device=device) - starts[centre]
        dense_r = torch.zeros(n_atoms, width, self.radial_channels, dtype=dtype, device=device)
        dense_r = dense_r.index_put((centre, slot), radial)
        dense_y = torch.zeros(n_atoms, width, angular.shape[1], dtype=dtype, device=device)
        dense_y = dense_y.index_put((centre, slot), angular)
        moments = torch.bmm(dense_r.transpose(1, 2), dense_y)               # (N, C, n_y)
        ca = self.angular_channels
        rows, cols = self.pair_rows, self.pair_cols
        features = [moments[:, :, 0]]
        m1 = moments[:, :ca, 1:4]
        blocks = [m1]
        if self.max_l >= 2:
            blocks.append(moments[:, :ca, 4:13])
        if self.max_l >= 3:
            blocks.append(moments[:, :ca, 13:40])
        for block in blocks:
            gram = torch.bmm(block, block.transpose(1, 2))                  # (N, A, A)
            features.append(gram[:, rows, cols])
        if self.four_body:
            m2 = moments[:, :ca, 4:13].reshape(n_atoms, ca, 3, 3)
            four = torch.einsum("nca,ndab,ncb->ncd", m1, m2, m1)
            features.append(four.reshape(n_atoms, ca * ca))
        x = torch.cat(features, dim=1)
        return x * self.feature_scale.to(dtype) + self.feature_shift.to(dtype)

    def atomic_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                        vectors: torch.Tensor) -> torch.Tensor:
        """Learned per-atom energies (dimensionless; scaled by ``energy_scale``)."""
        x = self.descriptors(species, edge_index, vectors)
        out = torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)
        for k, mlp in enumerate(self.mlps):
            idx = torch.nonzero(species == k).squeeze(1)
            if idx.numel() > 0:
                out = out.index_copy(0, idx, mlp(x.index_select(0, idx)).to(out.dtype))
        return out

    def repulsion_energies(self, species: torch.Tensor, edge_index: torch.Tensor,
                           vectors: torch.Tensor) -> torch.Tensor:
        """ZBL energy per atom (eV), half of each pair to each atom, smoothly switched off."""
        out = torch.zeros(species.shape[0], dtype=vectors.dtype, device=vectors.device)
        if not self.use_zbl:
            return out
        dtype = vectors.dtype
        r_all = torch.linalg.norm(vectors, dim=1)
        rcov_all = (self.zbl_rcov.to(dtype)[species[edge_index[0]]]
                    + self.zbl_rcov.to(dtype)[species[edge_index[1]]])
        near = torch.nonzero(r_all < self.zbl_outer * rcov_all).squeeze(1)
        if near.numel() == 0:
            return out
        centre, other = edge_index[0][near], edge_index[1][near]
        zi = self.zbl_z.to(dtype)[species[centre]]
        zj = self.zbl_z.to(dtype)[species[other]]
        rcov = rcov_all[near]
        r = r_all[near].clamp(min=1e-4)
        r_in, r_out = self.zbl_inner * rcov, self.zbl_outer * rcov
        # screening length (Å) and universal screening function; 14.399645 eV Å = e^2/4pi eps0
        a = 0.46850 / (zi ** 0.23 + zj ** 0.23)
        x = r / a
        phi = (0.18175 * torch.exp(-3.19980 * x) + 0.50986 * torch.exp(-0.94229 * x)
               + 0.28022 * torch.exp(-0.40290 * x) + 0.02817 * torch.exp(-0.20162 * x))
        pair = 14.399645 * zi * zj / r * phi * smooth_step_down((r - r_in) / (r_out - r_in))
        return out.index_add(0, centre, 0.5 * pair)


register_preset(Preset(
    name="default", family="moment",
    hyperparameters=dict(cutoff_A=5.0, n_basis=8, radial_channels=16, angular_channels=8,
                         max_l=2, four_body=False, hidden=[64, 64]),
    description="built-in moment-tensor network, 5 Å, three-body (l <= 2): fast MD, "
                "trains in minutes on a laptop CPU"))

register_preset(Preset(
    name="large", family="moment",
    hyperparameters=dict(cutoff_A=5.5, n_basis=10, radial_channels=24, angular_channels=12,
                         max_l=3, four_body=True, hidden=[128, 128]),
    description="larger moment-tensor network, 5.5 Å, l <= 3 and four-body terms: more "
                "accurate, ~3-5x slower"))
