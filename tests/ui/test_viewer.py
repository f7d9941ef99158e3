"""StructureViewer: payloads (tier 1), bokeh model (tier 2), real browser (tier 3, ``ui``)."""

from __future__ import annotations

import pathlib
import time

import numpy as np
import pytest

from ssestudio.core.errors import UserInputError
from ssestudio.ui import colors
from ssestudio.ui.viewer import StructureViewer, decode_array, encode_array
from tests.ui.browser import (CHROMIUM, CHROMIUM_ARGS, FIND_CANVAS, PIXELS, assert_all_local,
                              draw_count, needs_chromium, served,
                              wait_drawn, wait_frame)

LI, P, S, CL = 3, 15, 16, 17


def grid_structure(n_side=4, a=2.6):
    """n_side^3 atoms on a simple cubic grid, species cycling Li, P, S, Cl."""
    ijk = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    numbers = np.array([LI, P, S, CL])[np.arange(len(ijk)) % 4]
    return numbers, (ijk + 0.5) * a, np.eye(3) * n_side * a


# ---- tier 1: payloads -------------------------------------------------------------------
def test_encoding_round_trips_float32_and_uint8():
    x = np.random.default_rng(0).normal(size=(7, 3))
    text = encode_array(x, "float32")
    assert len(text) == 4 * ((7 * 3 * 4 + 2) // 3)  # base64 of 84 bytes
    assert np.array_equal(decode_array(text, "float32", (7, 3)), x.astype(np.float32))
    assert decode_array(encode_array([0, 7, 255], "uint8"), "uint8").tolist() == [0, 7, 255]
    assert decode_array("", "float32").size == 0


def test_structure_message_has_atoms_colours_radii_and_cell():
    numbers, positions, cell = grid_structure(3)
    v = StructureViewer()
    v.set_structure(numbers, positions, cell, frame=4)
    msg = v.structure_message()
    assert msg["n_atoms"] == 27 and msg["frame"] == 4 and v.structure_id == 1
    assert np.array_equal(msg["positions"], positions.astype(np.float32))
    assert np.allclose(msg["cell"], cell)
    from ase.data import covalent_radii
    from ase.data.colors import jmol_colors

    assert tuple(msg["colors"][0]) == tuple(np.rint(jmol_colors[LI] * 255).astype(int))
    assert msg["radii"][0] == pytest.approx(covalent_radii[LI] * colors.DEFAULT_RADIUS_SCALE)
    assert msg["highlight"] is None


def test_set_positions_streams_only_positions_and_changed_cell():
    numbers, positions, cell = grid_structure(2)
    v = StructureViewer()
    v.set_structure(numbers, positions, cell)
    changed = []
    v.param.watch(lambda *events: changed.extend(e.name for e in events), ["positions_b64", "cell", "colors_b64", "radii_b64", "frame"])
    v.set_positions(positions + 0.25, cell=cell, frame=1)
    assert sorted(changed) == ["frame", "positions_b64"]
    assert np.allclose(decode_array(v.positions_b64, "float32", (8, 3)), positions + 0.25)
    v.set_positions(positions, cell=cell * 1.1)
    assert "cell" in changed and v.frame == 1
    with pytest.raises(UserInputError, match=r"shape \(8, 3\)"):
        v.set_positions(positions[:5])
    with pytest.raises(UserInputError, match="NaN"):
        v.set_positions(np.full((8, 3), np.nan))


def test_atom_colours_species_overrides_and_highlight():
    numbers, positions, cell = grid_structure(2)
    v = StructureViewer(species_colors={"Li": "#000000"}, species_radii={"S": 1.5})
    v.set_structure(numbers, positions, cell)
    msg = v.structure_message()
    assert msg["colors"][0].tolist() == [0, 0, 0] and msg["radii"][2] == pytest.approx(1.5)
    v.set_atom_colors(np.full((8, 3), 9, dtype=np.uint8))
    assert (v.structure_message()["colors"] == 9).all()
    v.species_radii = {}  # a species change keeps per-atom colours
    assert (v.structure_message()["colors"] == 9).all()
    v.set_atom_colors(None)
    assert v.structure_message()["colors"][0].tolist() == [0, 0, 0]
    v.set_highlight([1, 5])
    assert v.highlighted.tolist() == [1, 5]
    assert v.structure_message()["highlight"].tolist() == [0, 255, 0, 0, 0, 255, 0, 0]
    v.set_highlight([])
    assert v.highlight_b64 == "" and v.structure_message()["highlight"] is None
    with pytest.raises(UserInputError, match="out of range"):
        v.set_highlight([8])
    assert v.species_style()["S"]["radius"] == pytest.approx(colors.species_radii([S])[0])


def test_colors_module():
    assert colors.parse_color("#f80").tolist() == [255, 136, 0]
    assert colors.parse_color((1.0, 0.5, 0.0)).tolist() == [255, 128, 0]
    assert colors.parse_color((255, 0, 0)).tolist() == [255, 0, 0]
    assert colors.parse_color("orange").tolist() == [255, 165, 0]
    with pytest.raises(UserInputError, match="not a colour"):
        colors.parse_color("nocolour")
    rgb = colors.colormap(np.array([0.0, 1.0, 2.0, np.nan]))
    assert colors.to_hex(rgb[0]) == "#440154" and colors.to_hex(rgb[2]) == "#fde725"
    assert tuple(rgb[3]) == colors.NAN_COLOR
    assert colors.scalar_range(np.array([np.nan, np.inf])) == (0.0, 1.0)
    with pytest.raises(UserInputError, match="chemical symbol"):
        colors.species_colors([3], {"Xx": "#fff"})


def test_colormap_is_close_to_viridis():
    mpl = pytest.importorskip("matplotlib")
    t = np.linspace(0, 1, 257)
    ref = np.rint(mpl.colormaps["viridis"](t)[:, :3] * 255)
    assert np.abs(colors.colormap(t, vmin=0, vmax=1).astype(int) - ref).max() <= 16


# ---- tier 2: the bokeh model and the ESM --------------------------------------------------
def test_bokeh_model_carries_state_but_not_python_only_params():
    numbers, positions, cell = grid_structure(2)
    v = StructureViewer(species_colors={"Li": "red"})
    v.set_structure(numbers, positions, cell)
    model = v.get_root()
    data = model.data
    assert data.n_atoms == 8 and data.positions_b64 == v.positions_b64 and data.cell == v.cell
    assert not hasattr(data, "species_colors")
    assert "export function render" in model.esm
    assert model.sizing_mode == "stretch_width" and model.min_height >= 200


def test_esm_imports_nothing_and_fetches_nothing():
    js = (pathlib.Path(__file__).parents[2] / "ssestudio" / "ui" / "viewer.js").read_text()
    code = "\n".join(line for line in js.splitlines() if not line.lstrip().startswith("//"))
    assert "import " not in code and "http" not in code and "fetch(" not in code
    assert "preserveDrawingBuffer: true" in js and "ResizeObserver" in js


# ---- tier 3: a real browser -----------------------------------------------------------------

@pytest.mark.ui
@needs_chromium
def test_browser_renders_streams_highlights_and_reloads(page, tmp_path):
    numbers, positions, cell = grid_structure(4)
    viewer = StructureViewer()
    viewer.set_structure(numbers, positions, cell)
    with served(viewer) as url:
        page.goto(url)
        wait_drawn(page)
        px = page.evaluate(PIXELS)
        assert px["webgl"] in ("webgl2", "webgl")
        assert px["width"] >= 500 and px["height"] >= 400  # real size, not 0 px
        assert px["foreground"] > 0.02 * px["width"] * px["height"] and px["distinct"] > 50
        shot = page.locator("canvas.ssestudio-structure-canvas").screenshot(path=str(tmp_path / "viewer.png"))
        assert len(shot) > 1000

        viewer.set_positions(positions + 0.3, frame=7)
        wait_frame(page, 7)

        before = draw_count(page)
        viewer.set_highlight(np.flatnonzero(numbers == LI))
        page.wait_for_function(f"() => +window.__canvas().dataset.drawCount > {before}")
        assert page.evaluate(PIXELS)["orange"] > 100  # outlines of highlighted atoms

        page.reload()  # a new session renders the current state
        wait_frame(page, 7)
        assert page.evaluate(PIXELS)["orange"] > 100
    assert_all_local(page.urls)


@pytest.mark.ui
@needs_chromium
def test_browser_handles_10000_atoms(page):
    rng = np.random.default_rng(0)
    n = 10_000
    box = (n / 0.05) ** (1 / 3)
    numbers = rng.choice([LI, P, S, CL], n)
    positions = rng.random((n, 3)) * box
    viewer = StructureViewer()
    viewer.set_structure(numbers, positions, np.eye(3) * box)
    with served(viewer) as url:
        t0 = time.perf_counter()
        page.goto(url)
        wait_drawn(page)
        first = time.perf_counter() - t0
        assert page.evaluate("() => window.__canvas().dataset.nAtoms") == str(n)
        updates = []
        for k in range(1, 6):
            t1 = time.perf_counter()
            viewer.set_positions(positions + rng.normal(scale=0.2, size=positions.shape), frame=k)
            wait_frame(page, k)
            updates.append(time.perf_counter() - t1)
        assert page.evaluate(PIXELS)["foreground"] > 10_000
    print(f"\n10,000 atoms: page load to first draw {first:.2f} s; "
          f"position update to redraw median {1000 * np.median(updates):.0f} ms")
    assert_all_local(page.urls)


@pytest.mark.ui
@needs_chromium
def test_browser_player_buttons_move_frames(page):
    from ssestudio.io.base import Frame, Trajectory, TrajectoryInfo
    from ssestudio.ui.player import TrajectoryPlayer

    numbers, positions, cell = grid_structure(3)

    class Shaking(Trajectory):
        symbols = tuple(["Li", "P", "S", "Cl"][i % 4] for i in range(27))
        masses = np.ones(27)
        info = TrajectoryInfo(format="memory", sources=())

        def _n_frames(self):
            return 10

        def _read_frame(self, index):
            return Frame(index, positions + 0.1 * index, cell, 2.0 * index)

    with served(lambda: TrajectoryPlayer(Shaking(), highlight="Li")) as url:
        page.goto(url)
        wait_frame(page, 0)
        page.get_by_role("button", name="▶", exact=True).click()
        wait_frame(page, 1)
        page.get_by_role("button", name="◀", exact=True).click()
        page.get_by_role("button", name="◀", exact=True).click()
        wait_frame(page, 9)  # loops back to the last frame
        page.get_by_role("button", name="▶ Play").click()
        page.wait_for_function("() => !['9', '0'].includes(window.__canvas().dataset.frame)")
    assert_all_local(page.urls)


@pytest.mark.ui
@needs_chromium
def test_browser_webgl1_fallback(playwright):
    numbers, positions, cell = grid_structure(3)
    viewer = StructureViewer()
    viewer.set_structure(numbers, positions, cell, frame=3)
    viewer.set_highlight([0, 1])
    b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + ["--disable-webgl2"])
    try:
        pg = b.new_page(viewport={"width": 800, "height": 600})
        pg.add_init_script(FIND_CANVAS)
        with served(viewer) as url:
            pg.goto(url)
            wait_frame(pg, 3)
            px = pg.evaluate(PIXELS)
        assert px["webgl"] == "webgl" and px["distinct"] > 50 and px["orange"] > 20
    finally:
        b.close()
