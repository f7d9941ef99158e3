"""Figures of the Paddle-wheel tab, from a rotation result's JSON (``rotation.json``):
C1/C2 with their stretched-exponential fits, the rotation-angle distribution against random
rotations, the event raster (tap an event to show it in the viewer), the enrichment heatmap
over (dt, r), the rotation-mobility cross-correlation, and the Arrhenius plot of the
reorientation rate. Bokeh is imported lazily.
"""

from __future__ import annotations

import numpy as np

from ssestudio.ui.plots import _figure as new_figure
from ssestudio.ui.plots import color
from ssestudio.ui.training_plots import _finish_legend

__all__ = ["angle_figure", "correlation_figure", "enrichment_figure", "raster_figure",
           "reorientation_figure", "xcorr_figure"]


def _a(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def correlation_figure(d: dict):
    """C1(t) and C2(t) (with their standard-error bands) and the fitted KWW curves."""
    from bokeh.models import Band, ColumnDataSource

    fig = new_figure("Orientational correlation", x_label="time (ps)", y_label="C_l(t)",
                     svg=False, filename="rotation-acf", height=300)
    for k, name in enumerate(("C1", "C2")):
        c = d["curves"][name]
        t, C, sem = _a(c["time_ps"]), _a(c["C"]), _a(c["C_sem"])
        src = ColumnDataSource({"t": t, "lo": C - sem, "hi": C + sem})
        fig.add_layout(Band(base="t", lower="lo", upper="hi", source=src,
                            fill_color=color(k), fill_alpha=0.2))
        tau = c.get("mean_tau_ps")
        label = f"{name}" + (f": <τ> = {tau:.3g} ps, β = {c['beta']:.2f}" if tau else "")
        fig.line(t, C, color=color(k), line_width=2, legend_label=label)
        fig.line(t, _a(c["fitted"]), color=color(k), line_dash="dashed", line_width=1.5,
                 legend_label=label)
    _finish_legend(fig)
    return fig


def angle_figure(d: dict):
    """Rotation angles over the lag, against fully random rotations (Haar measure)."""
    a = d["angle_distribution"]
    edges = _a(a["bin_edges_deg"])
    fig = new_figure(f"Rotation angle over {a['lag_ps']:.3g} ps", x_label="angle (degrees)",
                     y_label="probability density (1/degree)", svg=False,
                     filename="rotation-angles", height=300)
    fig.quad(left=edges[:-1], right=edges[1:], bottom=0, top=_a(a["density_per_deg"]),
             fill_color=color(0), fill_alpha=0.6, line_color=None, legend_label="units")
    fig.line(0.5 * (edges[:-1] + edges[1:]), _a(a["uniform_density_per_deg"]), color="black",
             line_dash="dashed", legend_label="random rotations")
    threshold = (d.get("parameters") or {}).get("rotation_threshold_deg")
    if threshold:
        from bokeh.models import Span

        fig.add_layout(Span(location=threshold, dimension="height", line_color="red",
                            line_dash="dotted"))
    _finish_legend(fig)
    return fig


def raster_figure(d: dict):
    """Events against time: rotations (one row per unit, triangles) and hops (one row per
    cation, circles, below). Returns ``(figure, {"rotation": source, "hop": source})``;
    each source's ``i`` column is the event's index in its list (tap selects)."""
    from bokeh.models import ColumnDataSource, HoverTool, TapTool

    fig = new_figure("Events (tap one to show it in the viewer)", x_label="time (ps)",
                     y_label="unit (top) / cation (bottom)", svg=False,
                     filename="rotation-events", height=300)
    rot, hop = d["events"]["rotation"], d["events"]["hop"]
    sources = {
        "rotation": ColumnDataSource({"t": _a(rot["time_ps"]), "y": _a(rot["index"]),
                                      "i": np.arange(len(rot["frame"])),
                                      "what": [f"{d['anion']} #{u}: {v:.0f}°" for u, v in
                                               zip(rot["index"], rot["value"])]}),
        "hop": ColumnDataSource({"t": _a(hop["time_ps"]), "y": -1.0 - _a(hop["index"]),
                                 "i": np.arange(len(hop["frame"])),
                                 "what": [f"{d['cation']} atom {a}: {v:.2f} Å" for a, v in
                                          zip(hop["atom"], hop["value"])]})}
    fig.scatter("t", "y", source=sources["rotation"], marker="triangle", size=7,
                color=color(1), legend_label=f"{d['anion']} rotations",
                nonselection_alpha=0.3, selection_color="red")
    fig.scatter("t", "y", source=sources["hop"], marker="circle", size=5, color=color(0),
                legend_label=f"{d['cation']} hops", nonselection_alpha=0.3,
                selection_color="red")
    fig.add_tools(TapTool(), HoverTool(tooltips=[("t", "@t{0.00} ps"), ("", "@what")]))
    _finish_legend(fig)
    return fig, sources


def enrichment_figure(d: dict):
    """Enrichment (observed / expected coincidences) over the (dt, r) grid, coloured on a
    log scale centred on 1 (red: more coincidences than chance), the quoted cell outlined;
    None without a grid."""
    from bokeh.models import ColumnDataSource, HoverTool, LogColorMapper

    g = d.get("enrichment_grid")
    if not g:
        return None
    dt, r = _a(g["dt_ps"]), _a(g["r_A"])
    E = _a(np.ravel(g["enrichment"])).reshape(len(dt), len(r))
    lo = _a(np.ravel(g["ci_low"])).reshape(E.shape)
    hi = _a(np.ravel(g["ci_high"])).reshape(E.shape)
    obs = np.asarray(g["observed"], float).reshape(E.shape)
    rows = [(i, j) for i in range(len(dt)) for j in range(len(r))]
    src = ColumnDataSource({
        "x": [j for _, j in rows], "y": [i for i, _ in rows],
        "E": [E[i, j] for i, j in rows],
        "label": [("—" if not np.isfinite(E[i, j]) else f"{E[i, j]:.2f}") for i, j in rows],
        "ci": [f"{lo[i, j]:.2f}–{hi[i, j]:.2f}" for i, j in rows],
        "obs": [obs[i, j] for i, j in rows], "dt": [dt[i] for i, _ in rows],
        "r": [r[j] for _, j in rows]})
    # log scale centred on 1 (white): enriched cells red, depleted ones blue
    pos = E[np.isfinite(E) & (E > 0)]
    top = max(2.0, float(pos.max()) if pos.size else 2.0, 1.0 / float(pos.min()) if pos.size
              else 2.0)
    mapper = LogColorMapper(palette="RdBu11", low=1.0 / top, high=top, nan_color="#eee")
    fig = new_figure("Enrichment over (dt, r)", x_label="r (Å)", y_label="|dt| (ps)",
                     svg=False, filename="rotation-enrichment", height=300)
    fig.rect("x", "y", width=1, height=1, source=src, line_color="white",
             fill_color={"field": "E", "transform": mapper})
    fig.text("x", "y", text="label", source=src, text_align="center",
             text_baseline="middle", text_font_size="9pt")
    i_dt, i_r = g["headline"]
    fig.rect([i_r], [i_dt], width=1, height=1, fill_alpha=0, line_color="black", line_width=3)
    fig.xaxis.ticker = list(range(len(r)))
    fig.xaxis.major_label_overrides = {j: f"{v:g}" for j, v in enumerate(r)}
    fig.yaxis.ticker = list(range(len(dt)))
    fig.yaxis.major_label_overrides = {i: f"{v:g}" for i, v in enumerate(dt)}
    fig.add_tools(HoverTool(tooltips=[("dt", "@dt ps"), ("r", "@r Å"), ("enrichment", "@label"),
                                      ("CI", "@ci"), ("observed", "@obs")]))
    return fig


def xcorr_figure(d: dict):
    """Cross-correlation of each unit's rotation activity with its neighbours' mobility
    (positive lag: mobility after rotation)."""
    x = d["cross_correlation"]
    fig = new_figure(f"Rotation-mobility cross-correlation (r ≤ {x['r_A']:g} Å)",
                     x_label="lag (ps)", y_label="correlation", svg=False,
                     filename="rotation-xcorr", height=300)
    fig.line(_a(x["lag_ps"]), _a(x["value"]), color=color(0), line_width=2)
    return fig


def reorientation_figure(fit, points: dict):
    """Reorientation rate 1/<τ2> against 1000/T, with the Arrhenius fit when there is one."""
    fig = new_figure("Reorientation rate (C2)", x_label="1000 / T (1/K)",
                     y_label="rate 1/<τ2> (1/ps)", svg=False, filename="rotation-arrhenius",
                     height=300, log_axes=False)
    from bokeh.models import LogScale

    fig.y_scale = LogScale()
    T = _a(points["T_K"])
    if not T.size:
        return fig
    rate = 1.0 / _a(points["tau_ps"])
    fig.scatter(1000.0 / T, rate, size=8, color=color(0), legend_label="runs")
    if fit is not None:
        grid = np.linspace(T.min() * 0.95, T.max() * 1.05, 50)
        fig.line(1000.0 / grid, fit.rate_at(grid), color=color(1),
                 legend_label=f"Ea = {fit.Ea_eV:.3f} ± {fit.Ea_err_eV:.3f} eV")
    _finish_legend(fig)
    return fig
