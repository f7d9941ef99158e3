"""Scattering weights: neutron coherent scattering lengths and X-ray atomic form factors.

Neutron: bound coherent scattering lengths ``b`` (fm) of the elements in their natural
isotopic mix, from V. F. Sears, "Neutron scattering lengths and cross sections", Neutron
News 3, 26 (1992), doi:10.1080/10448639208218770 (real parts; B absorbs strongly and has
a small imaginary part, left out). Only the elements SSEs need (and Cu for tests).

X-ray: free-atom form factors ``f0(s) = sum_i a_i exp(-b_i s^2) + c`` with
``s = sin(theta) / lambda = q / (4 pi)``, from the Waasmaier-Kirfel coefficients that ASE
ships (``ase.utils.xrdebye.waasmaier``; D. Waasmaier, A. Kirfel, Acta Cryst. A51, 416
(1995), doi:10.1107/S0108767394013292). ASE's table holds only C, N, O, P, S, Cl, Ni, Cu,
Pd, Ag, Pt, Au; for other elements (Li, Na, Ge, ...) the coefficients of pymatgen's XRD
calculator are used when pymatgen is installed (``f(s) = Z - 41.78214 s^2 sum_i a_i
exp(-b_i s^2)``, the parametrisation of M. De Graef and M. E. McHenry, Structure of
Materials, Cambridge University Press, 2007; pymatgen: S. P. Ong et al., Comput. Mater.
Sci. 68, 314 (2013), doi:10.1016/j.commatsci.2012.10.028); both agree to ~1 % for
s < 0.5 / Å. Without either, ``f = Z`` (no q-dependence) with a warning, unless the
caller gives a form factor. Anomalous dispersion (f', f'') is not included.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from ssestudio.core.errors import UserInputError

#: Bound coherent neutron scattering lengths, fm (Sears 1992, natural isotopic abundance).
NEUTRON_SCATTERING_LENGTHS_FM = MappingProxyType({
    "H": -3.7390, "Li": -1.90, "B": 5.30, "C": 6.6460, "N": 9.36, "O": 5.803, "F": 5.654,
    "Na": 3.63, "Mg": 5.375, "Al": 3.449, "Si": 4.1491, "P": 5.13, "S": 2.847, "Cl": 9.5770,
    "K": 3.67, "Ca": 4.70, "Cu": 7.718, "Ge": 8.185, "Br": 6.795, "Y": 7.75, "Zr": 7.16,
    "Nb": 7.054, "Sn": 6.225, "I": 5.28, "La": 8.24, "Ta": 6.91,
})

FormFactor = Callable[[np.ndarray], np.ndarray]


def neutron_scattering_length_fm(element: str, overrides: Mapping[str, float] | None = None
                                 ) -> float:
    """Coherent scattering length of ``element``, fm (``overrides`` first, then the table).

    Raises
    ------
    UserInputError
        An element not in :data:`NEUTRON_SCATTERING_LENGTHS_FM` nor in ``overrides``.
    """
    if overrides and element in overrides:
        return float(overrides[element])
    try:
        return NEUTRON_SCATTERING_LENGTHS_FM[element]
    except KeyError:
        raise UserInputError(
            f"no neutron scattering length for {element} in the table (Sears 1992, elements "
            f"{', '.join(NEUTRON_SCATTERING_LENGTHS_FM)}); pass scattering_lengths_fm="
            f"{{'{element}': b}} with b in fm") from None


def _ase_coefficients(element: str) -> list[float] | None:
    try:
        from ase.utils.xrdebye import waasmaier
    except ImportError:  # pragma: no cover - ASE >= 3.23 ships it
        return None
    return waasmaier.get(element)


@lru_cache(maxsize=1)
def _pymatgen_table() -> dict:
    """pymatgen's ``atomic_scattering_params.json`` read directly (importing pymatgen's XRD
    module takes seconds), or {} when pymatgen is not installed."""
    import importlib.util
    import json
    from pathlib import Path

    try:
        spec = importlib.util.find_spec("pymatgen")
    except (ImportError, ValueError):
        return {}
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "analysis" / "diffraction" / "atomic_scattering_params.json"
        if path.is_file():
            try:
                return json.loads(path.read_text())
            except (OSError, ValueError):
                return {}
    return {}


def _pymatgen_coefficients(element: str) -> tuple | None:
    coeffs = _pymatgen_table().get(element)
    return None if coeffs is None else tuple(tuple(map(float, ab)) for ab in coeffs)


def form_factor_source(element: str) -> str:
    """Which parametrisation :func:`xray_form_factor` uses for ``element``."""
    if _ase_coefficients(element) is not None:
        return "Waasmaier-Kirfel (ASE)"
    if _pymatgen_coefficients(element) is not None:
        return "De Graef-McHenry (pymatgen)"
    return "Z (constant)"


def xray_form_factor(element: str, q_inv_A: np.ndarray | float) -> np.ndarray:
    """Free-atom X-ray form factor of ``element`` at ``q_inv_A``, electrons.

    Parameters
    ----------
    element : str
        Chemical symbol.
    q_inv_A : float or ndarray
        Scattering vector magnitude ``q = 4 pi sin(theta) / lambda``, 1/Å.

    Returns
    -------
    ndarray
        ``f0(q)``, same shape as ``q_inv_A``.
    """
    from ase.data import atomic_numbers

    q = np.asarray(q_inv_A, dtype=float)
    s2 = (q / (4.0 * math.pi)) ** 2
    abc = _ase_coefficients(element)
    if abc is not None:
        return abc[10] + sum(abc[2 * i] * np.exp(-abc[2 * i + 1] * s2) for i in range(5))
    z = atomic_numbers[element]
    pm = _pymatgen_coefficients(element)
    if pm is not None:
        return z - 41.78214 * s2 * sum(a * np.exp(-b * s2) for a, b in pm)
    warnings.warn(f"no X-ray form factor parameters for {element}: using f = Z = {z} for all q "
                  "(install pymatgen, or pass form_factors=)", stacklevel=2)
    return np.full_like(q, float(z))


def xray_weights(species, q_inv_A: np.ndarray,
                 form_factors: Mapping[str, FormFactor | float] | None = None) -> np.ndarray:
    """Form factors of ``species`` on ``q_inv_A``, shape (S, n_q); ``form_factors`` may
    give a callable ``f(q)`` or a constant per element."""
    q = np.asarray(q_inv_A, dtype=float)
    out = []
    for s in species:
        given = (form_factors or {}).get(s)
        if given is None:
            out.append(xray_form_factor(s, q))
        elif callable(given):
            out.append(np.broadcast_to(np.asarray(given(q), float), q.shape))
        else:
            out.append(np.full_like(q, float(given)))
    return np.array(out)


def neutron_weights(species, overrides: Mapping[str, float] | None = None) -> np.ndarray:
    """Coherent scattering lengths of ``species``, shape (S,), fm."""
    return np.array([neutron_scattering_length_fm(s, overrides) for s in species])
