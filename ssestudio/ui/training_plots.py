"""Figures of the Training tab: loss and error curves, parity plots, per-element errors.

Inputs are the plain lists of :class:`~ssestudio.ui.training_model.TrainingModel`
(``curves()``, ``parity()``, ``element_errors()``); bokeh is imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssestudio.ui.plots import _figure as new_figure

_BAND_COLOR = "#2ca02c"


def _log_y(fig) -> None:
    """Turn the figure's y axis logarithmic (x stays linear)."""
    from bokeh.models import LogScale, LogTicker, LogTickFormatter

    fig.y_scale = LogScale()
    ticker = LogTicker()
    fig.yaxis.ticker = ticker
    fig.yaxis.formatter = LogTickFormatter()
    fig.ygrid.ticker = ticker


def _positive(x: Sequence, y: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The points with a finite, positive y (what a log axis can show)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray([np.nan if v is None else v for v in y], dtype=float)
    keep = np.isfinite(y) & (y > 0)
    return x[keep], y[keep]


def _finish_legend(fig, location: str = "top_right") -> None:
    if fig.legend:
        fig.legend.location = location
        fig.legend.click_policy = "hide"
        fig.legend.label_text_font_size = "8pt"
        fig.legend.background_fill_alpha = 0.6


def loss_figure(curves: Sequence[dict]):
    """Training (dashed) and validation (solid) loss versus epoch, log y axis.

    Parameters
    ----------
    curves : sequence of dict
        Each with ``label``, ``color``, ``epoch``, ``train_loss``, ``val_loss``.
    """
    fig = new_figure("Loss", x_label="epoch", y_label="loss", svg=False,
                     filename="training-loss", height=300)
    _log_y(fig)
    for c in curves:
        for key, dash, what in (("train_loss", "dashed", "train"), ("val_loss", "solid",
                                                                      "validation")):
            x, y = _positive(c["epoch"], c[key])
            fig.line(x, y, color=c["color"], line_dash=dash, line_width=2,
                     legend_label=f"{c['label']} {what}")
            fig.scatter(x, y, color=c["color"], size=4)
    _finish_legend(fig)
    return fig


def error_figure(curves: Sequence[dict], *, key: str, title: str, y_label: str,
                 band: tuple[float, float] | None = None):
    """A validation error (``curves[i][key]``) versus epoch, log y axis, with ``band``
    (low, high) shaded: the typical range of published models."""
    from bokeh.models import BoxAnnotation

    fig = new_figure(title, x_label="epoch", y_label=y_label, svg=False,
                     filename=f"training-{key}", height=300)
    _log_y(fig)
    if band is not None:
        fig.add_layout(BoxAnnotation(bottom=band[0], top=band[1], fill_color=_BAND_COLOR,
                                     fill_alpha=0.15, line_color=_BAND_COLOR, line_alpha=0.4))
        fig.scatter([np.nan], [np.nan], marker="square", size=10, color=_BAND_COLOR,
                    alpha=0.3, legend_label="published SSE models")
        first = min((c["epoch"][0] for c in curves if c["epoch"]), default=1)
        fig.scatter([first, first], list(band), alpha=0)  # the y range covers the band
    for c in curves:
        x, y = _positive(c["epoch"], c[key])
        fig.line(x, y, color=c["color"], line_width=2, legend_label=c["label"])
        fig.scatter(x, y, color=c["color"], size=4)
    _finish_legend(fig)
    return fig


def parity_figure(series: Sequence[dict], *, key: str, title: str, unit: str):
    """Predicted versus reference values (``series[i][key]`` = {reference, predicted}),
    one colour per model, with the diagonal."""
    fig = new_figure(title, x_label=f"reference ({unit})", y_label=f"predicted ({unit})",
                     svg=False, filename=f"parity-{key}", height=330)
    values = []
    for s in series:
        ref = np.asarray(s[key]["reference"], dtype=float)
        pred = np.asarray(s[key]["predicted"], dtype=float)
        values += [ref, pred]
        fig.scatter(ref, pred, color=s["color"], marker=s.get("marker", "circle"),
                    size=6 if s.get("marker") == "triangle" else 4, alpha=0.6,
                    legend_label=f"{s['label']} ({s['source']})")
    finite = np.concatenate(values) if values else np.zeros(0)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite.max())
        fig.line([lo, hi], [lo, hi], color="#555555", line_dash="dotted")
    _finish_legend(fig, "top_left")
    return fig


def element_error_figure(series: Sequence[dict]):
    """Force RMSE per element, eV/Å: grouped bars, one per model (``series[i]["values"]``
    {element: RMSE})."""
    from bokeh.models import CategoricalAxis, CategoricalScale, FactorRange

    elements = sorted({el for s in series for el in s["values"]})
    factors = [(el, s["label"]) for el in elements for s in series if el in s["values"]]
    fig = new_figure("Force RMSE per element", x_label="element", y_label="force RMSE (eV/Å)",
                     svg=False, filename="force-rmse-per-element", height=330)
    fig.x_range, fig.x_scale = FactorRange(*factors), CategoricalScale()
    fig.below = [CategoricalAxis(axis_label="element", major_label_orientation=0.6)]
    fig.xgrid.visible = False
    for s in series:
        xs = [(el, s["label"]) for el in elements if el in s["values"]]
        fig.vbar(x=xs, top=[s["values"][el] for el, _ in xs], width=0.8, color=s["color"],
                 legend_label=f"{s['label']} ({s['source']})")
    fig.y_range.start = 0
    _finish_legend(fig)
    return fig
