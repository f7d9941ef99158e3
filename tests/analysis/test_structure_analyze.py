"""The facade :func:`analyze_structure` on library crystals and the bundled trajectory."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssestudio.analysis.structure import (
    StructureConfig,
    analyze_structure,
    compute_cell_series,
    compute_rdf,
    open_frames,
)
from ssestudio.core.errors import UserInputError
from ssestudio.data.library import build_structure

KEYS = {"density_g_cm3", "density_std_g_cm3", "lattice", "rdf_peaks", "coordination",
        "speciation", "angles", "structure_factor", "xrd", "warnings", "n_frames"}


@pytest.fixture(scope="module")
def melt(sample_data_dir):
    return sample_data_dir / "trajectories" / "li3ps4_melt_800K.h5"


def test_crystal_from_the_library():
    atoms = build_structure("li7p3s11")
    result = analyze_structure(atoms)
    out = result.to_dict(curves=False)
    assert KEYS <= set(out)
    json.dumps(out, allow_nan=False)
    assert out["density_g_cm3"] == pytest.approx(1.9788, abs=1e-3)   # the entry's density
    assert out["lattice"]["alpha_deg"] == pytest.approx(102.845)
    assert out["rmax_A"] == pytest.approx(10.0) and "supercell" in out["warnings"][0]
    assert out["rdf_peaks"]["P-S"]["first_peak_A"] == pytest.approx(2.05, abs=0.05)
    assert out["coordination"]["P-S"]["n"] == pytest.approx(4.0)
    assert out["coordination"]["S-P"]["n"] == pytest.approx(24 / 22)
    assert out["speciation"]["unit_fraction_by_former"] == pytest.approx({"P2S7": 2 / 3,
                                                                          "PS4": 1 / 3})
    assert set(out["angles"]) == {"S-P-S", "P-S-P"}
    assert out["xrd"]["method"] == "bragg" and out["xrd"]["strongest_peaks"]
    assert out["structure_factor"]["neutron"]["peaks"]
    full = result.to_dict()
    assert len(full["rdf"]["r_A"]) == len(full["rdf"]["partials"]["P-S"]) == 500
    json.dumps(full, allow_nan=False)


def test_trajectory_with_frame_selection(melt):
    result = analyze_structure(melt, start=10, stop=100, stride=10, temperatures_K="kinetic")
    assert list(result.frames) == list(range(10, 100, 10))
    out = result.to_dict()
    assert out["n_frames"] == 9 and out["frames"]["first"] == 10 and out["frames"]["last"] == 90
    assert out["density_g_cm3"] == pytest.approx(1.88, abs=1e-3)
    assert out["speciation"]["qn_fraction"]["Q0"] == pytest.approx(1.0)
    assert out["coordination"]["P-S"]["n"] == pytest.approx(4.0)
    assert 100 < out["angles"]["S-P-S"]["mean_deg"] < 118
    assert out["xrd"]["method"] == "debye"
    temperatures = np.array(out["per_frame"]["temperature_K"])
    assert 500 < temperatures.mean() < 1100                       # Langevin at 800 K
    assert sum(out["versus_temperature"]["n_frames"]) == 9
    assert any("limited to 5.42" in w for w in out["warnings"])


def test_facade_equals_the_layers(melt):
    result = analyze_structure(melt, stride=50, xrd_method="none")
    rdf = compute_rdf(melt, stride=50)
    np.testing.assert_allclose(result.rdf.g, rdf.g)
    assert result.xrd is None
    with open_frames(melt, stride=50) as frames:
        assert frames.n_frames == 4
        assert compute_cell_series(frames).density_mean_g_cm3 == result.cell.density_mean_g_cm3


def test_options_and_errors(melt):
    config = StructureConfig(rmax_A=5.0, former="P", anion="S", angle_triplets=("S-P-S",),
                             coordination_cutoffs_A={"Li-S": 3.0}, xrd_method="none")
    result = analyze_structure(melt, config, stop=3)
    assert result.rdf.rmax_A == 5.0 and set(result.angles) == {"S-P-S"}
    assert result.shells["Li-S"].cutoff_A == 3.0 and result.shells["Li-S"].cutoff_given
    with pytest.raises(UserInputError, match="rmax_A <= 5.418"):
        analyze_structure(melt, rmax_A=8.0, stop=2)
    with pytest.raises(UserInputError, match="holds no frame"):
        analyze_structure(melt, start=200)
    with pytest.raises(UserInputError, match="unexpected keyword argument 'rmax'"):
        analyze_structure(melt, rmax=8.0)
    with pytest.raises(UserInputError, match="xrd_method must be"):
        analyze_structure(melt, stop=1, xrd_method="laue")
