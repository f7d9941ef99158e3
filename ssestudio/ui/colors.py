"""Colours and radii for the structure viewer: species colours, a viridis-like colormap.

Plain numpy, no panel and no matplotlib: the viewer and its tests use these functions
directly. Colours are ``uint8`` RGB triplets (0-255) throughout.

Species colours are Jmol's (``ase.data.colors.jmol_colors``); display radii are the
covalent radii of ``ase.data.covalent_radii`` times :data:`DEFAULT_RADIUS_SCALE`, so that
neighbouring spheres in a dense solid stay apart (a ball-and-stick look without sticks).
"""

from __future__ import annotations

from typing import Mapping, Sequence, Union

import numpy as np

from ssestudio.core.errors import UserInputError

#: Display radius = covalent radius x this factor, Å/Å.
DEFAULT_RADIUS_SCALE = 0.6

#: Colour for atoms whose scalar is NaN (not available), RGB 0-255.
NAN_COLOR = (150, 150, 150)

#: Viridis sampled at 0, 0.1, ..., 1 (the colormap itself is CC0, van der Walt & Smith);
#: values in between are interpolated linearly (within about 15/255 of matplotlib's
#: 256-entry table, which is not needed).
VIRIDIS_ANCHORS = np.array(
    [
        (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5F, 0x8D),
        (0x2A, 0x78, 0x8E), (0x21, 0x91, 0x8C), (0x22, 0xA8, 0x84), (0x44, 0xBF, 0x70),
        (0x7A, 0xD1, 0x51), (0xBD, 0xDF, 0x26), (0xFD, 0xE7, 0x25),
    ],
    dtype=float,
)

ColorLike = Union[str, Sequence[float], np.ndarray]


def parse_color(color: ColorLike) -> np.ndarray:
    """Turn a user colour into an RGB triplet.

    Parameters
    ----------
    color : str or sequence of 3 numbers
        ``"#rrggbb"``, ``"#rgb"``, a CSS colour name (``"orange"``), floats in [0, 1]
        or integers in [0, 255] (the dtype decides: ``(1, 1, 0)`` is almost black).

    Returns
    -------
    ndarray, shape (3,), uint8

    Raises
    ------
    UserInputError
        If the colour cannot be understood.
    """
    if isinstance(color, str):
        text = color.strip().lower()
        if not text.startswith("#"):
            from bokeh.colors import named  # lazy: only for CSS names

            css = getattr(named, text, None)
            if css is None:
                raise UserInputError(
                    f"{color!r} is not a colour; use '#rrggbb', a CSS name like 'orange', "
                    "or an (r, g, b) tuple")
            return np.array([css.r, css.g, css.b], dtype=np.uint8)
        digits = text[1:]
        if len(digits) == 3:
            digits = "".join(ch * 2 for ch in digits)
        try:
            if len(digits) != 6:
                raise ValueError
            return np.array([int(digits[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)
        except ValueError:
            raise UserInputError(f"{color!r} is not a hex colour; use '#rrggbb' or '#rgb'") from None
    raw = np.asarray(color)
    if raw.dtype.kind not in "uif":
        raise UserInputError(f"{color!r} is not an (r, g, b) colour")
    rgb = raw.astype(float).ravel()
    if rgb.shape != (3,) or not np.all(np.isfinite(rgb)) or rgb.min() < 0:
        raise UserInputError(f"{color!r} is not an (r, g, b) colour")
    if raw.dtype.kind == "f" and rgb.max() <= 1.0:  # floats in [0, 1]; ints are 0-255
        rgb = rgb * 255.0
    if rgb.max() > 255:
        raise UserInputError(f"{color!r}: (r, g, b) components must be 0-1 floats or 0-255 ints")
    return np.rint(rgb).astype(np.uint8)


def to_hex(rgb: ColorLike) -> str:
    """``"#rrggbb"`` of a colour (see :func:`parse_color` for accepted inputs)."""
    r, g, b = (int(v) for v in parse_color(rgb))
    return f"#{r:02x}{g:02x}{b:02x}"


def _symbol_numbers(overrides: Mapping[str, object] | None) -> dict[int, object]:
    from ase.data import atomic_numbers

    out = {}
    for sym, value in (overrides or {}).items():
        if sym not in atomic_numbers:
            raise UserInputError(f"{sym!r} is not a chemical symbol (expected e.g. 'Li', 'S')")
        out[atomic_numbers[sym]] = value
    return out


def species_colors(numbers: np.ndarray, overrides: Mapping[str, ColorLike] | None = None) -> np.ndarray:
    """Per-atom Jmol colours, with per-element overrides.

    Parameters
    ----------
    numbers : array of int, shape (n_atoms,)
        Atomic numbers.
    overrides : dict of str to colour, optional
        ``{"Li": "#7b3fe4"}``; any form :func:`parse_color` accepts.

    Returns
    -------
    ndarray, shape (n_atoms, 3), uint8
    """
    from ase.data.colors import jmol_colors

    numbers = np.asarray(numbers, dtype=int)
    table = np.rint(np.asarray(jmol_colors) * 255).astype(np.uint8)
    for z, color in _symbol_numbers(overrides).items():
        table[z] = parse_color(color)
    return table[numbers]


def species_radii(numbers: np.ndarray, overrides: Mapping[str, float] | None = None, *,
                  scale: float = DEFAULT_RADIUS_SCALE) -> np.ndarray:
    """Per-atom display radii, Å.

    Parameters
    ----------
    numbers : array of int, shape (n_atoms,)
        Atomic numbers.
    overrides : dict of str to float, optional
        Display radius per element, Å, used as given (not multiplied by ``scale``).
    scale : float
        Factor applied to the covalent radii.

    Returns
    -------
    ndarray, shape (n_atoms,), float32
    """
    from ase.data import covalent_radii

    numbers = np.asarray(numbers, dtype=int)
    table = np.asarray(covalent_radii, dtype=float) * scale
    for z, radius in _symbol_numbers(overrides).items():
        if not np.isfinite(radius) or radius <= 0:
            raise UserInputError(f"radius {radius!r} is not a positive length in Å")
        table[z] = float(radius)
    return table[numbers].astype(np.float32)


def colormap(values: np.ndarray, *, vmin: float | None = None, vmax: float | None = None) -> np.ndarray:
    """Map scalars to viridis colours.

    Parameters
    ----------
    values : array of float, shape (n,)
        Scalars; NaN maps to :data:`NAN_COLOR`.
    vmin, vmax : float, optional
        Range mapped onto the colormap; default the finite min and max of ``values``.

    Returns
    -------
    ndarray, shape (n, 3), uint8
    """
    values = np.asarray(values, dtype=float)
    lo, hi = scalar_range(values) if vmin is None or vmax is None else (vmin, vmax)
    lo = lo if vmin is None else float(vmin)
    hi = hi if vmax is None else float(vmax)
    span = hi - lo if hi > lo else 1.0
    t = np.clip((values - lo) / span, 0.0, 1.0)
    x = np.linspace(0.0, 1.0, len(VIRIDIS_ANCHORS))
    rgb = np.stack([np.interp(t, x, VIRIDIS_ANCHORS[:, k]) for k in range(3)], axis=-1)
    rgb[~np.isfinite(values)] = NAN_COLOR
    return np.rint(rgb).astype(np.uint8)


def scalar_range(values: np.ndarray) -> tuple[float, float]:
    """Finite ``(min, max)`` of ``values``; ``(0.0, 1.0)`` when none is finite."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def colormap_css_gradient() -> str:
    """A CSS ``linear-gradient`` of the colormap, left (min) to right (max)."""
    stops = ", ".join(to_hex(c.astype(np.uint8)) for c in VIRIDIS_ANCHORS)
    return f"linear-gradient(to right, {stops})"
