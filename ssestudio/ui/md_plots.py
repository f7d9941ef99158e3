"""Figures of the MD tab: the protocol schedule, live thermo curves, and the structure
analysis of a finished run (partial RDFs, S(q), powder XRD, density and lattice parameters
against temperature or time).

Inputs are plain dicts and arrays (:meth:`MDForm.schedules`, :meth:`MDRuns.thermo`, the
``structure.json`` of a structure job); bokeh is imported lazily.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssestudio.ui.plots import _figure as new_figure
from ssestudio.ui.plots import color
from ssestudio.ui.training_plots import _finish_legend

__all__ = ["lattice_figure", "rdf_figure", "schedule_figure", "sq_figure", "thermo_columns",
           "thermo_figures", "xrd_figure"]

_STAGE_FILL = ("#f2f2f2", "#e0e9f3")


def _array(values) -> np.ndarray:
    return np.asarray([np.nan if v is None else v for v in values], dtype=float)


def schedule_figure(schedules: Sequence[dict]):
    """Target temperature against time of each job, with its stages shaded and named.

    Parameters
    ----------
    schedules : sequence of dict
        :meth:`~ssestudio.ui.md_model.MDForm.schedules` (``label``, ``time_ps``,
        ``temperature_K``, ``stages``).
    """
    from bokeh.models import BoxAnnotation, HoverTool, Label

    fig = new_figure("Protocol: target temperature", x_label="time (ps)",
                     y_label="temperature (K)", svg=False, filename="md-schedule", height=260)
    if schedules:
        for k, (name, t0, t1, ens) in enumerate(schedules[0]["stages"]):
            fig.add_layout(BoxAnnotation(left=t0, right=t1, fill_color=_STAGE_FILL[k % 2],
                                         fill_alpha=0.8, level="underlay"))
            fig.add_layout(Label(x=t0, y=5, y_units="screen", text=f"{name} ({ens})",
                                 text_font_size="7pt", angle=1.5708, x_offset=10))
    for i, s in enumerate(schedules):
        t, T = np.asarray(s["time_ps"], float), _array(s["temperature_K"])
        fig.line(t, T, color=color(i), line_width=2, legend_label=s["label"])
        fig.scatter(t, T, color=color(i), size=4)
    fig.add_tools(HoverTool(tooltips=[("t", "@x{0.00} ps"), ("T", "@y{0} K")]))
    _finish_legend(fig, "top_right")
    return fig


#: The thermo panels: title, y label, [(column, legend, dash)].
THERMO_PANELS = (
    ("Temperature", "T (K)", (("T_K", "kinetic", "solid"), ("target_T_K", "target", "dashed"))),
    ("Energy", "energy (eV)", (("Epot_eV", "potential", "solid"), ("Etot_eV", "total", "solid"),
                               ("Econs_eV", "conserved", "dashed"))),
    ("Pressure", "P (GPa)", (("P_GPa", "pressure", "solid"),)),
    ("Density", "density (g/cm³)", (("density_g_cm3", "density", "solid"),)),
    ("Ensemble uncertainty", "max force deviation (eV/Å)",
     (("max_force_dev_eV_A", "max deviation", "solid"),)),
)


def thermo_columns(thermo: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The thermo columns that have data (``time_ps`` first), for a ColumnDataSource."""
    if not thermo:
        return {}
    out = {"time_ps": np.asarray(thermo["time_ps"], float)}
    for _title, _label, columns in THERMO_PANELS:
        for c, _legend, _dash in columns:
            if c in thermo and np.isfinite(thermo[c]).any():
                out[c] = np.asarray(thermo[c], float)
    return out


def thermo_figures(source) -> list:
    """Live thermo curves against time: T (and its target), energies, pressure, density
    and the ensemble uncertainty, drawn from ``source`` (a ColumnDataSource of
    :func:`thermo_columns`; panels without a column are left out); linked x ranges.
    Replacing ``source.data`` with new columns of the same names updates them live."""
    figures = []
    for title, y_label, columns in THERMO_PANELS:
        present = [(c, legend, dash) for c, legend, dash in columns if c in source.data]
        if not present:
            continue
        fig = new_figure(title, x_label="time (ps)", y_label=y_label, svg=False,
                         filename=f"md-{title.lower().replace(' ', '-')}", height=220)
        if figures:
            fig.x_range = figures[0].x_range
        for k, (c, legend, dash) in enumerate(present):
            fig.line("time_ps", c, source=source, color=color(k), line_dash=dash,
                     line_width=1.5, legend_label=legend)
        _finish_legend(fig, "bottom_right")
        figures.append(fig)
    return figures


def rdf_figure(analysis: dict):
    """Partial radial distribution functions g_ab(r) of a structure analysis."""
    rdf = analysis["rdf"]
    fig = new_figure("Partial RDFs", x_label="r (Å)", y_label="g(r)", svg=False,
                     filename="md-rdf", height=300)
    r = np.asarray(rdf["r_A"], float)
    for i, (pair, g) in enumerate(rdf["partials"].items()):
        fig.line(r, _array(g), color=color(i), line_width=1.5, legend_label=pair)
    fig.line(r, _array(rdf["g_total"]), color="black", line_dash="dashed", legend_label="total")
    _finish_legend(fig)
    return fig


def sq_figure(analysis: dict):
    """Total structure factor S(q), neutron- and X-ray-weighted."""
    fig = new_figure("Structure factor", x_label="q (1/Å)", y_label="S(q)", svg=False,
                     filename="md-sq", height=300)
    for i, (which, sf) in enumerate((analysis.get("structure_factor") or {}).items()):
        if sf:
            fig.line(np.asarray(sf["q_inv_A"], float), _array(sf["S"]), color=color(i),
                     line_width=1.5, legend_label=which)
    _finish_legend(fig)
    return fig


def xrd_figure(analysis: dict):
    """Simulated powder XRD pattern (None when the analysis has none)."""
    xrd = analysis.get("xrd")
    if not xrd:
        return None
    fig = new_figure(f"Powder XRD (λ = {xrd['wavelength_A']:g} Å, {xrd['method']})",
                     x_label="2θ (degrees)", y_label="intensity (arb.)", svg=False,
                     filename="md-xrd", height=300)
    fig.line(np.asarray(xrd["two_theta_deg"], float), _array(xrd["intensity"]), color=color(0),
             line_width=1.5)
    return fig


def lattice_figure(analysis: dict):
    """Lattice lengths and density per analysed frame, against temperature when the
    frames have one (a ramp) and against time otherwise (None without frames)."""
    from bokeh.models import LinearAxis, Range1d

    per = analysis.get("per_frame") or {}
    if not per.get("frame"):
        return None
    temps = per.get("temperature_K")
    vs_T = temps is not None and np.ptp(_array(temps)) > 1.0
    x = _array(temps) if vs_T else _array(per["time_fs"]) / 1000.0
    fig = new_figure("Lattice and density", x_label="temperature (K)" if vs_T else "time (ps)",
                     y_label="length (Å)", svg=False, filename="md-lattice", height=300)
    for i, key in enumerate(("a_A", "b_A", "c_A")):
        fig.scatter(x, _array(per[key]), color=color(i), size=4, legend_label=key[0])
    rho = _array(per["density_g_cm3"])
    if np.isfinite(rho).any():
        lo, hi = np.nanmin(rho), np.nanmax(rho)
        pad = max(0.02 * hi, 1e-3)
        fig.extra_y_ranges = {"rho": Range1d(lo - pad, hi + pad)}
        fig.add_layout(LinearAxis(y_range_name="rho", axis_label="density (g/cm³)"), "right")
        fig.scatter(x, rho, y_range_name="rho", color="black", marker="triangle", size=4,
                    legend_label="density")
    _finish_legend(fig)
    return fig
