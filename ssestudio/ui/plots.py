"""Bokeh figures of the transport analysis: MSD curves and the Arrhenius plot.

Pure data helpers (:func:`model_curves`) are separate from the figure builders, which
import bokeh lazily. Every figure keeps bokeh's toolbar with its ``save`` tool, which
downloads the figure client-side: a PNG for the canvas backend, an SVG for
``output_backend="svg"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bokeh.plotting import figure as Figure

    from ssestudio.analysis.arrhenius import TemperatureFit

#: Colours of successive curves (bokeh's Category10).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
MODEL_COLORS = {"arrhenius": "#1f4e79", "two_regime": "#d62728", "vft": "#2ca02c"}
_TOOLS = "pan,wheel_zoom,box_zoom,reset,save"


def fmt(value: float | None, spec: str = ".3g") -> str:
    """``value`` formatted with ``spec``, or an en dash for None."""
    return "–" if value is None else format(value, spec)


def fit_summary(fit: TemperatureFit | None) -> str:
    """One-paragraph Markdown caption of a temperature fit ('' for None)."""
    if fit is None:
        return ""
    lo, hi = fit.extrapolated_300K_interval
    bic = ", ".join(f"{n} {f.bic:.1f}" for n, f in fit.fits.items())
    brk = f", breakpoint {fit.breakpoint_K:.0f} K" if fit.breakpoint_K else ""
    return (f"**Preferred model: {fit.model}**{brk} · Ea = {fit.Ea_eV:.3f} ± "
            f"{fit.Ea_err_eV:.3f} eV · prefactor {fmt(fit.prefactor)} {fit.prefactor_unit}"
            f" · at {fit.target_T_K:g} K: **{fmt(fit.extrapolated_300K)} {fit.unit}** "
            f"[{fmt(lo)}, {fmt(hi)}] ({100 * fit.confidence:.0f}%"
            f"{'' if fit.extrapolation_reliable else ', spread of all models'}) · BIC: {bic}")


def color(i: int) -> str:
    """The ``i``-th colour of :data:`PALETTE` (cycled)."""
    return PALETTE[i % len(PALETTE)]


def model_curves(fit: TemperatureFit, T_data_K: Sequence[float], *, T_min_K: float,
                 T_max_K: float, n_points: int = 80, n_samples: int = 2000,
                 confidence: float | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Each fitted model's curve and confidence band on a grid uniform in 1000/T.

    Parameters
    ----------
    fit : TemperatureFit
        From :func:`ssestudio.analysis.arrhenius.fit_temperature_dependence`.
    T_data_K : sequence of float, shape (n,)
        The fitted temperatures, K (bound the shape parameters of the samples, as the fit).
    T_min_K, T_max_K : float
        Range of the grid, K.
    n_points : int
        Grid points.
    n_samples : int
        Parameter samples drawn from each model's Gaussian (full covariance).
    confidence : float, optional
        Band level; default the fit's.

    Returns
    -------
    dict
        ``{model: {"inv_T": 1000/T (1/K), "log10": log10 of the quantity, "low", "high"}}``,
        arrays of shape (n_points,); the quantity is D, or sigma (not sigma T).
    """
    from ssestudio.analysis.temperature_models import MODELS

    T = 1000.0 / np.linspace(1000.0 / T_max_K, 1000.0 / T_min_K, n_points)
    per_T = 1.0 / T if fit.quantity == "sigma" else np.ones_like(T)
    level = fit.confidence if confidence is None else confidence
    tail = 50.0 * (1.0 - level)
    rng = np.random.default_rng(0)
    out = {}
    for name, mf in fit.fits.items():
        model, params = MODELS[name], np.asarray(mf.params)
        samples = model.sample_params(params, mf.covariance, T_data_K, size=n_samples, rng=rng)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            central = model.log_value(T, params) / np.log(10) + np.log10(per_T)
            logs = model.log_value(T[:, None], samples.T) / np.log(10) + np.log10(per_T)[:, None]
            low, high = (np.nanpercentile(logs, [tail, 100 - tail], axis=1) if samples.size
                         else (central, central))
        out[name] = {"inv_T": 1000.0 / T, "log10": central, "low": low, "high": high}
    return out


def _figure(title: str, *, x_label: str, y_label: str, svg: bool, filename: str,
            log_axes: bool = False, height: int = 360):
    from bokeh.models import SaveTool
    from bokeh.plotting import figure

    axis = "log" if log_axes else "linear"
    fig = figure(title=title, x_axis_label=x_label, y_axis_label=y_label, tools=_TOOLS,
                 x_axis_type=axis, y_axis_type=axis, height=height, sizing_mode="stretch_width",
                 output_backend="svg" if svg else "canvas")
    fig.toolbar.logo = None
    fig.select_one(SaveTool).filename = filename  # no file-name prompt; .png or .svg appended
    return fig


def msd_figure(curves: Sequence[dict], *, log_axes: bool = True,
               window_ps: tuple[float, float] | None = None, svg: bool = False) -> Figure:
    """MSD versus lag time, one line per curve, with uncertainty bands and fitted lines.

    Parameters
    ----------
    curves : sequence of dict
        Each with ``label``, ``color``, ``time_ps`` (T,), ``msd_A2`` (T,), ``sem_A2`` (T,)
        or None (no band), ``fit_time_ps`` (k,) and ``fit_msd_A2`` (k,) for the fitted line.
    log_axes : bool
        Log-log axes (lag 0 and non-positive values are dropped).
    window_ps : (float, float), optional
        Fit window to shade, ps.
    svg : bool
        SVG backend (the toolbar's save tool then saves SVG instead of PNG).
    """
    from bokeh.models import BoxAnnotation, ColumnDataSource

    fig = _figure("Mean squared displacement", x_label="lag time (ps)", y_label="MSD (Å²)",
                  svg=svg, filename="msd", log_axes=log_axes)
    for c in curves:
        t, y = np.asarray(c["time_ps"], float), np.asarray(c["msd_A2"], float)
        sem = None if c.get("sem_A2") is None else np.asarray(c["sem_A2"], float)
        keep = (t > 0) & (y > 0) if log_axes else np.isfinite(y)
        data = {"t": t[keep], "msd": y[keep]}
        if sem is not None and np.isfinite(sem[keep]).any():
            low, high = y[keep] - sem[keep], y[keep] + sem[keep]
            if log_axes:
                low = np.where(low > 0, low, y[keep] * 1e-3)
            data.update(low=low, high=high)
        src = ColumnDataSource(data)
        if "low" in data:
            fig.varea(x="t", y1="low", y2="high", source=src, fill_color=c["color"],
                      fill_alpha=0.2, legend_label=c["label"])
        fig.line(x="t", y="msd", source=src, color=c["color"], line_width=2,
                 legend_label=c["label"])
        ft, fy = np.asarray(c.get("fit_time_ps", []), float), np.asarray(c.get("fit_msd_A2", []), float)
        ok = np.isfinite(fy) & ((ft > 0) & (fy > 0) if log_axes else True)
        if ok.any():
            fig.line(ft[ok], fy[ok], color=c["color"], line_dash="dashed", line_width=1.5,
                     legend_label=c["label"])
    if window_ps is not None:
        fig.add_layout(BoxAnnotation(left=window_ps[0], right=window_ps[1], fill_alpha=0.08,
                                     fill_color="#1f4e79", line_color="#1f4e79",
                                     line_alpha=0.5, line_dash="dotted"))
    if curves:
        fig.legend.location = "top_left"
        fig.legend.click_policy = "hide"
    return fig


def arrhenius_figure(points: dict, *, quantity: str, curves: dict | None = None,
                     fit: TemperatureFit | None = None, svg: bool = False) -> Figure:
    """log10 D (or sigma) versus 1000/T: data with error bars, models with bands, extrapolation.

    Parameters
    ----------
    points : dict
        ``T_K``, ``value``, ``error``, ``label`` (lists, one entry per trajectory).
    quantity : {"D", "sigma"}
        What the values are (cm^2/s or mS/cm).
    curves : dict, optional
        :func:`model_curves` output.
    fit : TemperatureFit, optional
        The fit (preferred model drawn solid and thick; the extrapolation and its interval).
    svg : bool
        SVG backend.
    """
    from bokeh.models import ColumnDataSource, Range1d, Whisker

    unit = "cm²/s" if quantity == "D" else "mS/cm"
    symbol = "D*" if quantity == "D" else "σ"
    fig = _figure("Arrhenius plot", x_label="1000 / T (1/K)",
                  y_label=f"log10 {symbol} ({unit})", svg=svg, filename=f"arrhenius-{quantity}")
    T = np.asarray(points["T_K"], float)
    v, e = np.asarray(points["value"], float), np.asarray(points["error"], float)
    low = np.where(v - e > 0, v - e, v * 1e-3)
    y_min, y_max = _y_bounds(np.log10(low), np.log10(v + e), curves, fit)
    fig.y_range = Range1d(y_min, y_max)
    for name, c in (curves or {}).items():
        preferred = fit is not None and name == fit.model
        col = MODEL_COLORS.get(name, "#555555")
        label = f"{name}{' (preferred)' if preferred else ''}"
        band_low = np.clip(np.nan_to_num(c["low"], nan=y_min, neginf=y_min), y_min, y_max)
        band_high = np.clip(np.nan_to_num(c["high"], nan=y_max, posinf=y_max), y_min, y_max)
        fig.varea(c["inv_T"], band_low, band_high, fill_color=col,
                  fill_alpha=0.18 if preferred else 0.07, legend_label=label)
        fig.line(c["inv_T"], c["log10"], color=col, line_width=3 if preferred else 1.5,
                 line_dash="solid" if preferred else "dashed", legend_label=label)
    src = ColumnDataSource({"x": 1000.0 / T, "y": np.log10(v), "low": np.log10(low),
                            "high": np.log10(v + e), "label": list(points["label"]),
                            "T": T})
    fig.add_layout(Whisker(source=src, base="x", lower="low", upper="high", line_width=1.5))
    fig.scatter(x="x", y="y", source=src, size=9, color="#000000", legend_label="simulations")
    if fit is not None and fit.extrapolated_300K and fit.extrapolated_300K > 0:
        lo, hi = fit.extrapolated_300K_interval
        x = 1000.0 / fit.target_T_K
        ext = ColumnDataSource({"x": [x], "y": [np.log10(fit.extrapolated_300K)],
                                "low": [np.log10(lo) if lo and lo > 0 else np.nan],
                                "high": [np.log10(hi) if hi and hi > 0 else np.nan]})
        fig.add_layout(Whisker(source=ext, base="x", lower="low", upper="high",
                               line_color="#d62728", line_width=2))
        fig.scatter(x="x", y="y", source=ext, size=12, marker="diamond", color="#d62728",
                    legend_label=f"extrapolated to {fit.target_T_K:g} K")
    if fig.legend:
        fig.legend.location = "bottom_left"
        fig.legend.click_policy = "hide"
    return fig


def _y_bounds(data_low, data_high, curves, fit, *, margin: float = 1.0) -> tuple[float, float]:
    """y range (log10) of the Arrhenius plot: the data, the models' central curves and the
    extrapolated value, plus ``margin`` decades. Bands wider than that are clipped to it (a
    model fitted to few temperatures can have a band of tens of decades)."""
    values = [np.asarray(data_low, float), np.asarray(data_high, float)]
    values += [np.asarray(c["log10"], float) for c in (curves or {}).values()]
    if fit is not None and fit.extrapolated_300K and fit.extrapolated_300K > 0:
        values.append(np.array([np.log10(fit.extrapolated_300K)]))
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return -1.0, 1.0
    return float(finite.min() - margin), float(finite.max() + margin)
