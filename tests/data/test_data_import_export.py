"""Import of DFT/AIMD data (VASP, extxyz, DeePMD, ASE db) and export for MACE/NequIP/DeePMD.

The VASP fixtures in ``files/`` are hand-written: 4 atoms (Li2Cl2), 2 ionic steps, the
first compressed (VASP stress +10/+12/+14 kB, external pressure +12 kB), the second under
tension (-5/-6/-7 kB). ASE's sign is the opposite of VASP's: compressed means negative.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.stress import voigt_6_to_full_3x3_stress

from ssestudio.core.errors import UserInputError
from ssestudio.data.export import (
    EXPORTERS,
    export_configurations,
    write_deepmd,
    write_extxyz,
)
from ssestudio.data.importers import IMPORTERS, detect_format, import_configurations

FILES = Path(__file__).parent / "files"
KB = 0.1 * units.GPa  # one kilobar in eV/Å^3

#: A compressive stress (eV/Å^3, Voigt, ASE sign): negative diagonal, pressure > 0.
COMPRESSIVE = np.array([-0.012, -0.008, -0.010, 0.0011, -0.0023, 0.0017])


def labelled(symbols: str = "Li2ClS", *, seed: int = 0, stress=COMPRESSIVE, pbc: bool = True,
             energy: float | None = None) -> Atoms:
    """A small labelled configuration with a triclinic cell and random labels."""
    rng = np.random.default_rng(seed)
    n = len(Atoms(symbols))
    cell = np.array([[4.1, 0.1, 0.0], [0.2, 3.9, 0.0], [0.1, 0.3, 4.2]]) if pbc else None
    atoms = Atoms(symbols, positions=rng.random((n, 3)) * 3.7, cell=cell, pbc=pbc)
    results = {"energy": -3.123456789012345 * n + rng.normal() if energy is None else energy,
               "forces": rng.normal(size=(n, 3))}
    if stress is not None:
        results["stress"] = np.asarray(stress, dtype=float)
    atoms.calc = SinglePointCalculator(atoms, **results)
    atoms.info["provenance"] = {"source": "library:test", "level": "DFT",
                                "generators": [{"name": "rattle", "params": {"stdev_A": 0.05},
                                                "seed": seed}]}
    return atoms


def write_text(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"))
    return path


def mace_voigt_to_matrix(t: np.ndarray) -> np.ndarray:
    """MACE's ``voigt_to_matrix`` (mace/tools/torch_tools.py) for 6, 9 or 3x3 numbers."""
    t = np.asarray(t)
    if t.shape == (6,):
        return np.array([[t[0], t[5], t[4]], [t[5], t[1], t[3]], [t[4], t[3], t[2]]])
    return t.reshape(3, 3)


# --- extended XYZ ----------------------------------------------------------------------


def test_extxyz_round_trip_is_exact_including_signs(tmp_path):
    import ase.io

    configs = [labelled(seed=0), labelled(seed=1, stress=-COMPRESSIVE)]
    path = write_extxyz(configs, tmp_path / "train.xyz")

    raw = ase.io.read(path, index=0)  # what MACE and NequIP see
    assert raw.calc is None
    assert raw.info["REF_energy"] == configs[0].get_potential_energy()
    assert np.array_equal(raw.arrays["REF_forces"], configs[0].get_forces())
    assert raw.info["REF_stress"].shape == (6,)
    assert np.array_equal(mace_voigt_to_matrix(raw.info["REF_stress"]),
                          voigt_6_to_full_3x3_stress(COMPRESSIVE))
    assert raw.info["config_type"] == "rattle"

    report = import_configurations(path)
    assert report.format == "extxyz"
    assert report.label_keys == {"energy": "REF_energy", "forces": "REF_forces",
                                 "stress": "REF_stress"}
    assert report.summary()["imported"] == 2 and report.skipped == ()
    for original, back in zip(configs, report.configurations):
        assert back.get_potential_energy() == original.get_potential_energy()
        assert np.array_equal(back.get_forces(), original.get_forces())
        assert np.array_equal(back.get_stress(), original.get_stress())
        assert np.array_equal(back.positions, original.positions)
        assert np.array_equal(back.cell.array, original.cell.array)
    compressed = report.configurations[0].get_stress()
    assert np.all(compressed[:3] < 0) and -compressed[:3].mean() > 0  # pressure > 0
    assert np.all(report.configurations[1].get_stress()[:3] > 0)
    prov = report.configurations[1].info["provenance"]
    assert (prov["source"], prov["frame"], prov["level"], prov["group"]) == \
        (str(path), 1, "DFT", str(path))
    assert prov["generators"][0]["name"] == "rattle"  # earlier provenance kept
    assert "REF_energy" not in report.configurations[0].info


def test_extxyz_export_writes_virial_as_minus_stress_times_volume(tmp_path):
    import ase.io

    atoms = labelled()
    path = write_extxyz([atoms], tmp_path / "v.xyz", virial_key="REF_virial")
    raw = ase.io.read(path)
    expected = -voigt_6_to_full_3x3_stress(COMPRESSIVE) * atoms.get_volume()
    np.testing.assert_allclose(raw.info["REF_virial"].reshape(3, 3), expected, rtol=1e-14)
    assert np.all(np.diag(expected) > 0)  # compressed: positive virial
    back = import_configurations(path, stress_key="REF_virial").configurations[0]
    np.testing.assert_allclose(back.get_stress(), COMPRESSIVE, rtol=1e-12, atol=1e-17)


def test_extxyz_virial_is_converted_to_stress(tmp_path):
    # cell 2 x 3 x 4 Å, V = 24 Å^3; stress = -virial / V
    path = write_text(tmp_path / "virial.xyz", """
2
Lattice="2.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-3.5 virial="2.4 0.0 0.0 0.0 4.8 0.0 0.0 0.0 -7.2" pbc="T T T"
Li 0.0 0.0 0.0 0.1 0.0 0.0
Cl 1.0 1.5 2.0 -0.1 0.0 0.0
2
Lattice="2.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-3.25 virial="2.4 0.0 0.0 0.0 4.8 0.0 0.0 0.0 -7.2" pbc="T T T"
Li 0.1 0.0 0.0 0.2 0.0 0.0
Cl 1.0 1.5 2.0 -0.2 0.0 0.0
""")
    report = import_configurations(path)
    assert report.label_keys["stress"] == "virial"
    np.testing.assert_allclose(report.configurations[0].get_stress(),
                               [-0.1, -0.2, 0.3, 0.0, 0.0, 0.0], rtol=1e-14)
    assert report.configurations[1].get_potential_energy() == -3.25

    voigt = write_text(tmp_path / "voigt.xyz", """
2
Lattice="2.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 4.0" Properties=species:S:1:pos:R:3:dft_forces:R:3 dft_energy=-3.5 REF_virial="2.4 4.8 -7.2 0.24 0.48 0.72" pbc="T T T"
Li 0.0 0.0 0.0 0.1 0.0 0.0
Cl 1.0 1.5 2.0 -0.1 0.0 0.0
""")
    report = import_configurations(voigt)
    assert report.label_keys == {"energy": "dft_energy", "forces": "dft_forces",
                                 "stress": "REF_virial"}
    np.testing.assert_allclose(report.configurations[0].get_stress(),
                               [-0.1, -0.2, 0.3, -0.01, -0.02, -0.03], rtol=1e-14)


def test_extxyz_custom_keys_must_be_named(tmp_path):
    path = write_text(tmp_path / "custom.xyz", """
2
Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties=species:S:1:pos:R:3:my_F:R:3 my_E=-2.0 pbc="T T T"
Li 0.0 0.0 0.0 0.5 0.0 0.0
Cl 1.5 1.5 1.5 -0.5 0.0 0.0
""")
    with pytest.raises(UserInputError, match="energy_key"):
        import_configurations(path)
    config = import_configurations(path, energy_key="my_E", forces_key="my_F").configurations[0]
    assert config.get_potential_energy() == -2.0
    assert np.array_equal(config.get_forces(), [[0.5, 0, 0], [-0.5, 0, 0]])
    assert "stress" not in config.calc.results


# --- DeePMD ----------------------------------------------------------------------------


def test_deepmd_round_trip(tmp_path):
    configs = [labelled(seed=s) for s in range(3)]          # Li Li Cl S
    configs.append(labelled("SLi2Cl", seed=3))               # same formula, other order
    configs.append(labelled("Li2", seed=4, stress=None, pbc=False))
    out = write_deepmd(configs, tmp_path / "dp", set_size=2)

    assert sorted(p.name for p in out.iterdir()) == ["ClLi2S", "ClLi2S_1", "Li2"]
    system = out / "ClLi2S"
    assert (system / "type_map.raw").read_text().split() == ["Li", "S", "Cl"]  # by Z
    assert (system / "type.raw").read_text().split() == ["0", "0", "2", "1"]
    assert sorted(p.name for p in system.glob("set.*")) == ["set.000", "set.001"]
    coord = np.load(system / "set.000" / "coord.npy")
    assert coord.shape == (2, 12) and np.load(system / "set.001" / "box.npy").shape == (1, 9)
    virial = np.load(system / "set.000" / "virial.npy")[0].reshape(3, 3)
    np.testing.assert_allclose(virial, -voigt_6_to_full_3x3_stress(COMPRESSIVE)
                               * configs[0].get_volume(), rtol=1e-14)
    assert (out / "Li2" / "nopbc").exists() and not (out / "Li2" / "set.000" / "box.npy").exists()

    report = import_configurations(out)
    assert report.format == "deepmd" and len(report.configurations) == 5
    by_origin = {(Path(c.info["provenance"]["source"]).name, c.info["provenance"]["frame"]): c
                 for c in report.configurations}
    pairs = [(("ClLi2S", i), configs[i]) for i in range(3)]
    pairs += [(("ClLi2S_1", 0), configs[3]), (("Li2", 0), configs[4])]
    for key, original in pairs:
        back = by_origin[key]
        assert back.get_chemical_symbols() == original.get_chemical_symbols()
        assert back.get_potential_energy() == original.get_potential_energy()
        assert np.array_equal(back.get_forces(), original.get_forces())
        assert np.array_equal(back.positions, original.positions)
        if "stress" in original.calc.results:
            np.testing.assert_allclose(back.get_stress(), original.get_stress(),
                                       rtol=1e-12, atol=1e-17)
    assert not by_origin[("Li2", 0)].pbc.any() and "stress" not in by_origin[("Li2", 0)].calc.results

    single = import_configurations(system, index="::2")  # one system, stride over its sets
    assert [c.info["provenance"]["frame"] for c in single.configurations] == [0, 2]


def test_deepmd_structural_errors_raise(tmp_path):
    write_deepmd([labelled(seed=0), labelled(seed=1)], tmp_path / "dp")
    system = tmp_path / "dp" / "ClLi2S"
    force = system / "set.000" / "force.npy"
    good_force = np.load(force)

    np.save(force, good_force[:, :9])  # 3 atoms' worth of forces for 4 atoms
    with pytest.raises(UserInputError, match=r"force\.npy has shape \(2, 9\).*\(n_frames, 12\)"):
        import_configurations(system)

    np.save(force, good_force)
    np.save(system / "set.000" / "energy.npy", np.zeros(3))
    with pytest.raises(UserInputError, match="different numbers of frames"):
        import_configurations(system)

    (system / "type_map.raw").unlink()
    with pytest.raises(UserInputError, match="type_map.raw"):
        import_configurations(tmp_path / "dp")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(UserInputError, match="no DeePMD system"):
        import_configurations(tmp_path / "nothing", format="deepmd")


# --- VASP ------------------------------------------------------------------------------


def test_vasprun_fixture_energies_forces_and_stress_sign():
    report = import_configurations(FILES / "vasprun.xml")
    assert report.format == "vasp-xml" and report.label_keys["energy"] == "free_energy"
    first, second = report.configurations
    assert [c.get_potential_energy() for c in report.configurations] == [-13.87654321,
                                                                          -13.91234567]
    np.testing.assert_array_equal(first.get_forces()[0], [0.1, -0.2, 0.3])
    np.testing.assert_array_equal(second.get_forces()[3], [-0.1, -0.05, -0.1])
    # VASP: xx yy zz = 10 12 14 kB, xy 1, yz 2, zx 3 (compressed, VASP sign positive)
    np.testing.assert_allclose(first.get_stress(), -KB * np.array([10, 12, 14, 2, 3, 1]),
                               rtol=1e-12)
    pressure_kB = -first.get_stress()[:3].mean() / KB
    assert pressure_kB == pytest.approx(12.0)  # the file's positive external pressure
    assert np.all(second.get_stress()[:3] > 0)  # tension: positive ASE stress
    assert second.get_volume() == pytest.approx(5.1 * 5.0 * 4.9)
    assert [c.info["provenance"]["frame"] for c in report.configurations] == [0, 1]
    sigma0 = import_configurations(FILES / "vasprun.xml", energy_key="energy", level="PBE")
    assert [c.get_potential_energy() for c in sigma0.configurations] == [-13.87012345,
                                                                          -13.9056789]
    assert sigma0.configurations[0].info["provenance"]["level"] == "PBE"


def test_outcar_fixture_energies_forces_stress_and_index():
    report = import_configurations(FILES / "OUTCAR")
    assert report.format == "vasp-out"
    first, second = report.configurations
    assert first.get_chemical_symbols() == ["Li", "Li", "Cl", "Cl"]
    assert first.get_potential_energy() == -20.12345678  # free energy TOTEN
    assert second.get_potential_energy() == -20.23456789
    np.testing.assert_array_equal(first.get_forces()[2], [0.044, 0.055, -0.066])
    np.testing.assert_array_equal(second.positions[0], [0.102, 0.0, 0.0])
    # OUTCAR "in kB" order: XX YY ZZ XY YZ ZX = 10 12 14 1 2 3
    np.testing.assert_allclose(first.get_stress(), -KB * np.array([10, 12, 14, 2, 3, 1]),
                               rtol=1e-12)
    assert -first.get_stress()[:3].mean() / KB == pytest.approx(12.0)
    np.testing.assert_allclose(second.get_stress(), -KB * np.array([-5, -6, -7, 0, 0, 0.5]),
                               rtol=1e-12, atol=1e-15)
    last = import_configurations(FILES / "OUTCAR", index=-1, energy_key="energy")
    assert len(last.configurations) == 1
    assert last.configurations[0].info["provenance"]["frame"] == 1
    assert last.configurations[0].get_potential_energy() == -20.22222222  # sigma -> 0
    strided = import_configurations(FILES / "OUTCAR", index="::2")
    assert [c.info["provenance"]["frame"] for c in strided.configurations] == [0]


def test_format_detection_by_name_and_content(tmp_path):
    assert detect_format(FILES / "OUTCAR") == "vasp-out"
    assert detect_format(FILES / "vasprun.xml") == "vasp-xml"
    assert detect_format(shutil.copy(FILES / "OUTCAR", tmp_path / "run1.log")) == "vasp-out"
    assert detect_format(shutil.copy(FILES / "vasprun.xml", tmp_path / "step.out")) == "vasp-xml"
    write_extxyz([labelled()], tmp_path / "frames.dat")
    assert detect_format(tmp_path / "frames.dat") == "extxyz"
    assert set(IMPORTERS) == {"vasp-out", "vasp-xml", "extxyz", "deepmd", "ase-db"}


# --- ASE database ----------------------------------------------------------------------


def test_ase_db_import_skips_forces_of_the_wrong_length(tmp_path):
    import ase.db

    good, bad = labelled(seed=0), labelled(seed=1)
    bad.calc = SinglePointCalculator(bad, energy=-1.0, forces=np.zeros((3, 3)))
    with ase.db.connect(tmp_path / "data.db") as db:
        db.write(good, config_type="bulk")
        db.write(bad)
    report = import_configurations(tmp_path / "data.db")
    assert report.format == "ase-db" and len(report.configurations) == 1
    config = report.configurations[0]
    assert config.get_potential_energy() == good.get_potential_energy()
    assert np.array_equal(config.get_forces(), good.get_forces())
    np.testing.assert_array_equal(config.get_stress(), COMPRESSIVE)
    assert config.info["config_type"] == "bulk"
    (skip,) = report.skipped
    assert (skip.frame, skip.reason) == (1, "forces shape mismatch")
    assert "(3, 3)" in skip.detail and "4 atoms" in skip.detail
    assert report.summary()["reasons"] == {"forces shape mismatch": 1}


def test_ase_db_labels_in_key_value_pairs_and_data(tmp_path):
    import ase.db

    atoms = Atoms("LiCl", positions=[[0, 0, 0], [1.3, 1.3, 1.3]], cell=[2.6] * 3, pbc=True)
    forces = np.array([[0.25, 0.0, -0.5], [-0.25, 0.0, 0.5]])
    with ase.db.connect(tmp_path / "refs.db") as db:
        db.write(atoms, REF_energy=-7.75, data={"REF_forces": forces})
    config = import_configurations(tmp_path / "refs.db").configurations[0]
    assert config.get_potential_energy() == -7.75
    assert np.array_equal(config.get_forces(), forces)


# --- bad input -------------------------------------------------------------------------

FRAME = """2
Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties={props} {energy} pbc="T T T"
Li 0.0 0.0 0.0{f1}
Cl 1.5 1.5 1.5{f2}
"""


def frame(energy: str = "energy=-2.0", forces: bool = True) -> str:
    props = "species:S:1:pos:R:3" + (":forces:R:3" if forces else "")
    f1, f2 = (" 0.5 0.0 0.0", " -0.5 0.0 0.0") if forces else ("", "")
    return FRAME.format(props=props, energy=energy, f1=f1, f2=f2)


def test_missing_forces_are_skipped_or_rejected(tmp_path):
    path = write_text(tmp_path / "some.xyz", frame() + frame(forces=False))
    report = import_configurations(path)
    assert len(report.configurations) == 1
    (skip,) = report.skipped
    assert (skip.frame, skip.reason) == (1, "missing forces")
    assert "require_forces=False" in skip.detail

    none = write_text(tmp_path / "none.xyz", frame(forces=False) * 2)
    with pytest.raises(UserInputError, match=r"nothing could be imported.*2 missing forces"):
        import_configurations(none)
    energy_only = import_configurations(none, require_forces=False)
    assert len(energy_only.configurations) == 2
    assert "forces" not in energy_only.configurations[0].calc.results


def test_file_with_some_bad_frames_imports_the_good_ones(tmp_path):
    text = frame() + frame(energy="energy=nan") + frame(energy="energy=-2.5") \
        + frame(energy="") + frame(energy="energy=inf")
    report = import_configurations(write_text(tmp_path / "mixed.xyz", text))
    assert [c.info["provenance"]["frame"] for c in report.configurations] == [0, 2]
    assert [c.get_potential_energy() for c in report.configurations] == [-2.0, -2.5]
    assert [(s.frame, s.reason) for s in report.skipped] == [
        (1, "non-finite energy"), (3, "missing energy"), (4, "non-finite energy")]
    assert report.summary() == {
        "source": str(tmp_path / "mixed.xyz"), "format": "extxyz", "imported": 2,
        "skipped": 3, "reasons": {"non-finite energy": 2, "missing energy": 1},
        "label_keys": {"energy": "energy", "forces": "forces", "stress": None}}

    with pytest.raises(UserInputError, match="non-finite energy"):
        import_configurations(write_text(tmp_path / "nan.xyz", frame(energy="energy=nan")))


@pytest.mark.parametrize(("make", "options", "message"), [
    (lambda d: d / "missing.xyz", {}, "does not exist"),
    (lambda d: write_text(d / "empty.xyz", ""), {}, "is empty"),
    (lambda d: write_text(d / "a.xyz", frame()), {"format": "cif"},
     r"unknown import format 'cif'; known formats: vasp-out, vasp-xml, extxyz, deepmd, ase-db"),
    (lambda d: write_text(d / "notes.txt", "hello\n"), {}, "cannot tell the format.*extxyz"),
    (lambda d: write_text(d / "cut.xyz", frame()[:-25]), {}, "cannot read .*cut.xyz as extxyz"),
    (lambda d: write_text(d / "junk.db", "not a database\n" * 20), {}, "ASE database"),
    (lambda d: d, {"format": "extxyz"}, "reads a file"),
    (lambda d: write_text(d / "a.xyz", frame()), {"index": "every"}, "not a frame selection"),
    (lambda d: write_text(d / "a.xyz", frame()), {"index": 5}, "out of range.*1 frame"),
])
def test_bad_input_raises_a_clear_error(tmp_path, make, options, message):
    with pytest.raises(UserInputError, match=message):
        import_configurations(make(tmp_path), **options)


# --- export errors and atomicity -------------------------------------------------------


def test_export_registry_and_option_errors(tmp_path):
    assert set(EXPORTERS) == {"extxyz", "deepmd"}
    out = export_configurations([labelled()], tmp_path / "a.xyz", format="extxyz",
                                energy_key="dft_energy")
    assert import_configurations(out).label_keys["energy"] == "dft_energy"
    with pytest.raises(UserInputError, match="unknown export format 'xyz'.*extxyz, deepmd"):
        export_configurations([labelled()], tmp_path / "b.xyz", format="xyz")
    with pytest.raises(UserInputError, match="does not take option.*set_size"):
        export_configurations([labelled()], tmp_path / "b.xyz", format="extxyz", set_size=3)
    with pytest.raises(UserInputError, match="already exists.*overwrite=True"):
        write_extxyz([labelled()], out)
    write_extxyz([labelled(seed=5)], out, overwrite=True)
    assert import_configurations(out).configurations[0].get_potential_energy() == \
        labelled(seed=5).get_potential_energy()
    with pytest.raises(UserInputError, match="no configurations"):
        write_extxyz([], tmp_path / "c.xyz")
    with pytest.raises(UserInputError, match="must differ"):
        write_extxyz([labelled()], tmp_path / "c.xyz", energy_key="E", stress_key="E")
    with pytest.raises(UserInputError, match="not a usable extxyz key"):
        write_extxyz([labelled()], tmp_path / "c.xyz", forces_key=None)
    with pytest.raises(UserInputError, match="not a usable extxyz key"):
        write_extxyz([labelled()], tmp_path / "c.xyz", energy_key="REF energy")


def test_failed_exports_leave_nothing_behind(tmp_path):
    broken = labelled(seed=2)
    broken.calc = SinglePointCalculator(broken, energy=-1.0, forces=np.zeros((2, 3)))
    with pytest.raises(UserInputError, match=r"configuration 1: forces have shape \(2, 3\)"):
        write_extxyz([labelled(), broken], tmp_path / "out.xyz")
    assert list(tmp_path.iterdir()) == []

    unlabelled = labelled(seed=3)
    unlabelled.calc = None
    with pytest.raises(UserInputError, match="configuration 1 lacks a finite energy or forces"):
        write_deepmd([labelled(), unlabelled], tmp_path / "dp")
    assert list(tmp_path.iterdir()) == []

    with pytest.raises(UserInputError, match="only some of configurations"):
        write_deepmd([labelled(), labelled(seed=1, stress=None)], tmp_path / "dp")
    with pytest.raises(UserInputError, match="type_map"):
        write_deepmd([labelled()], tmp_path / "dp", type_map=["Li", "S"])
    assert list(tmp_path.iterdir()) == []

    write_deepmd([labelled()], tmp_path / "dp")
    with pytest.raises(UserInputError, match="already exists"):
        write_deepmd([labelled()], tmp_path / "dp")
    write_deepmd([labelled("Li2", stress=None, pbc=False)], tmp_path / "dp", overwrite=True)
    assert [p.name for p in (tmp_path / "dp").iterdir()] == ["Li2"]
    assert [p.name for p in tmp_path.iterdir()] == ["dp"]
