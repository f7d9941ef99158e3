"""Figures and tables of the Dataset tab: label histograms, the statistics summary, the map."""

from __future__ import annotations

import numpy as np

from ssestudio.ui.plots import color
from ssestudio.ui.plots import _figure as new_figure



def histogram_figure(histograms: dict, *, title: str, x_label: str):
    """Step histograms (``{label: {"edges", "counts"}}``) on one bokeh figure."""
    fig = new_figure(title, x_label=x_label, y_label="count", svg=False,
                     filename=title.lower().replace(" ", "-"), height=260)
    for i, (label, h) in enumerate(histograms.items()):
        if not h or not h.get("counts"):
            continue
        edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"])
        fig.step(edges[:-1], counts, mode="after", color=color(i), line_width=2,
                 legend_label=str(label))
    if fig.legend:
        fig.legend.click_policy = "hide"
    return fig


def map_figure(data: dict, *, color_by: str):
    """Scatter of the 2-D map coloured by a property; returns ``(figure, source)`` (tap a
    point to select it: ``source.selected.indices``)."""
    from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, TapTool

    values = np.array([np.nan if v is None else v for v in data[color_by]], dtype=float)
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    source = ColumnDataSource({"x": data["x"], "y": data["y"], "c": values,
                               "formula": data["formula"], "source": data["source"],
                               "split": data["split"], "row": data["row_id"]})
    ev = data.get("explained_variance", [0, 0])
    fig = new_figure("Map of all configurations (click a point to view it)",
                     x_label=f"PC1 ({100 * ev[0]:.0f} %)", y_label=f"PC2 ({100 * ev[1]:.0f} %)",
                     svg=False, filename="dataset-map", height=380)
    mapper = LinearColorMapper(palette="Viridis256", low=low, high=high if high > low else low + 1,
                               nan_color="#bbbbbb")
    fig.scatter("x", "y", source=source, size=8, fill_color={"field": "c", "transform": mapper},
                line_color=None)
    fig.add_tools(TapTool(), HoverTool(tooltips=[("row", "@row"), ("formula", "@formula"),
                                                 ("source", "@source"), ("split", "@split"),
                                                 (color_by, "@c")]))
    fig.add_layout(ColorBar(color_mapper=mapper, title=color_by), "right")
    return fig, source


def stats_markdown(stats: dict) -> str:
    """The statistics as Markdown tables (empty string when there are none)."""
    if not stats:
        return "No labelled version yet: generate configurations and label them."
    lines = [f"**Version {stats['version']}**: {stats['n_configurations']} configurations, "
             f"{stats['n_atoms']} atoms; splits "
             + ", ".join(f"{k} {v}" for k, v in stats["by_split"].items())]
    for key, title in (("by_formula", "composition"), ("by_source", "source"),
                       ("by_level", "level of theory")):
        lines.append(f"\n| {title} | configurations |\n|---|---|")
        lines += [f"| {k} | {v} |" for k, v in stats[key].items()]
    e = stats["energy_per_atom_eV"]
    if e.get("n"):
        lines.append(f"\nEnergy per atom: {e['mean']:.4f} ± {e['std']:.4f} eV "
                     f"(range {e['min']:.4f} to {e['max']:.4f})")
    lines.append("\n| element | force std (eV/Å) | max abs (eV/Å) |\n|---|---|---|")
    lines += [f"| {el} | {f['std']:.3f} | {max(-f['min'], f['max']):.3f} |"
              for el, f in stats["force_components_eV_A"].items()]
    lines.append("\nMinimum distances: " + ", ".join(
        f"{k} {d:.2f} Å" for k, d in stats["min_distance_A"].items()))
    return "\n".join(lines)
