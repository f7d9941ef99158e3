"""Built-in calculators: classical potentials from ASE and offline pretrained ML models.

``emt`` and ``lj`` come with ASE (for tests and demos); ``sevenn`` and ``chgnet`` are
optional packages whose weights ship inside their wheels, so they load without network.
Each factory imports its package only when called.
"""

from __future__ import annotations

import importlib.util

from typing import TYPE_CHECKING, Any

from ssestudio.calculators.registry import register_calculator

if TYPE_CHECKING:
    from ase.calculators.calculator import BaseCalculator

_TORCH_HINT = "pip install torch==2.13.0 (the CPU wheel, before any package needing torch)"


def _set_torch_threads(num_threads: int | None) -> None:
    """``torch.set_num_threads`` for this process (None leaves torch's default)."""
    if num_threads is not None:
        import torch

        torch.set_num_threads(int(num_threads))


@register_calculator("emt", description="ASE effective-medium theory (Al, Cu, Ag, Au, Ni, "
                                        "Pd, Pt; metals only: tests and demos)")
def emt(*, asap_cutoff: bool = False) -> "BaseCalculator":
    """ASE's EMT potential [1]_ for fcc metals (tests and demos, not electrolytes).

    Parameters
    ----------
    asap_cutoff : bool
        Use ASAP's cutoff convention.

    References
    ----------
    .. [1] K. W. Jacobsen, P. Stoltze, J. K. Nørskov, Surf. Sci. 366, 394 (1996),
       doi:10.1016/0039-6028(96)00816-3
    """
    from ase.calculators.emt import EMT

    return EMT(asap_cutoff=asap_cutoff)


@register_calculator("lj", description="ASE Lennard-Jones pair potential")
def lennard_jones(*, sigma: float = 1.0, epsilon: float = 1.0, rc: float | None = None,
                  ro: float | None = None, smooth: bool = False) -> "BaseCalculator":
    """ASE's Lennard-Jones potential, ``4 epsilon ((sigma/r)^12 - (sigma/r)^6)``.

    Parameters
    ----------
    sigma : float
        Zero-crossing distance, Å.
    epsilon : float
        Well depth, eV.
    rc : float, optional
        Cutoff, Å (ASE default ``3 sigma``).
    ro : float, optional
        Onset of the smooth cutoff, Å (ASE default ``0.66 rc``).
    smooth : bool
        Smoothly switch the potential off between ``ro`` and ``rc``.
    """
    from ase.calculators.lj import LennardJones

    return LennardJones(sigma=sigma, epsilon=epsilon, rc=rc, ro=ro, smooth=smooth)


@register_calculator("sevenn", requires={
    "torch": _TORCH_HINT,
    "sevenn": "pip install sevenn (with torch==2.13.0 installed first)"},
    description="SevenNet pretrained ML potential (7net-0 by default; offline weights)",
    cache=True)
def sevenn(*, model: str = "7net-0", device: str = "cpu", num_threads: int | None = 1,
           modal: str | None = None, **kwargs: Any) -> "BaseCalculator":
    """SevenNet [1]_ pretrained model through ``sevenn.calculator.SevenNetCalculator``.

    Parameters
    ----------
    model : str
        Pretrained name shipped in the wheel (``"7net-0"``, ``"7net-l3i5"``,
        ``"7net-mf-0"``) or a checkpoint path. Newer names are downloaded at run time
        and fail offline.
    device : str
        Torch device.
    num_threads : int or None
        ``torch.set_num_threads`` for this process (1 is the most stable on a shared
        machine); None keeps torch's default.
    modal : str, optional
        Fidelity of multi-fidelity models (``7net-mf-0``).
    **kwargs
        Passed to ``SevenNetCalculator``.

    References
    ----------
    .. [1] Y. Park et al., J. Chem. Theory Comput. 20, 4857 (2024),
       doi:10.1021/acs.jctc.4c00190
    """
    _set_torch_threads(num_threads)
    if importlib.util.find_spec("mace") is not None:
        # sevenn 0.10 next to mace-torch shares e3nn 0.4.4, which must be imported by mace
        # first (see ssestudio.models.mace_backend.import_mace)
        from ssestudio.models.mace_backend import import_mace

        import_mace()
    from sevenn.calculator import SevenNetCalculator

    if modal is not None:
        kwargs["modal"] = modal
    return SevenNetCalculator(model=model, device=device, **kwargs)


@register_calculator("chgnet", requires={
    "torch": _TORCH_HINT,
    "chgnet": "pip install chgnet (with torch==2.13.0 installed first)"},
    description="CHGNet 0.3.0 pretrained ML potential (offline weights)", cache=True)
def chgnet(*, device: str = "cpu", num_threads: int | None = 1,
           **kwargs: Any) -> "BaseCalculator":
    """CHGNet [1]_ pretrained model through ``chgnet.model.dynamics.CHGNetCalculator``.

    Parameters
    ----------
    device : str
        Torch device (CHGNet's ``use_device``).
    num_threads : int or None
        ``torch.set_num_threads`` for this process; None keeps torch's default.
    **kwargs
        Passed to ``CHGNetCalculator`` (e.g. ``model``, ``stress_weight``).

    References
    ----------
    .. [1] B. Deng et al., Nat. Mach. Intell. 5, 1031 (2023),
       doi:10.1038/s42256-023-00716-3
    """
    _set_torch_threads(num_threads)
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(use_device=device, **kwargs)


@register_calculator("model", requires={"torch": _TORCH_HINT},
                     description="a force field trained by SSE Studio (model or ensemble file, "
                                 "or run folder); ensembles add the DP-GEN force deviation",
                     cache=True)
def trained_model(*, path: str, device: str = "cpu",
                  num_threads: int | None = 1) -> "BaseCalculator":
    """A model saved by :mod:`ssestudio.training` (``best.pt``, ``ensemble.pt``).

    Parameters
    ----------
    path : str
        Model or ensemble file, or a run folder (its ``ensemble.pt`` or ``best.pt``).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    num_threads : int or None
        ``torch.set_num_threads`` for this process; None keeps torch's default.
    """
    _set_torch_threads(num_threads)
    from ssestudio.models.calculator import load_calculator
    from ssestudio.models.serialization import model_file

    return load_calculator(model_file(path), device=device)
