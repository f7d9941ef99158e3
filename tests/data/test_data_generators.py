"""Configuration generators: registry, pipelines (seeds, provenance, JSON, cancel) and each
generator's physics/bookkeeping, on small Li2S antifluorite and EMT copper cells."""

import json

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.singlepoint import SinglePointCalculator
from ase.geometry import get_distances
from ase.spacegroup import crystal

from ssestudio.core.errors import SSEStudioError, UserInputError
from ssestudio.data.generators import (
    GENERATORS,
    GenerationCancelled,
    GeneratorError,
    GeneratorStep,
    annotate,
    apply_generator,
    apply_pipeline,
    available_generators,
    derive_seed,
    describe_generators,
    pipeline_from_json,
    pipeline_to_json,
    register_generator,
)
from ssestudio.data.generators_structure import perpendicular_widths
from ssestudio.data.generators_stuffing import empty_sites

BUILTINS = {"supercell", "rattle", "strain", "vacancies", "stuffing", "swap", "substitute",
            "md_snapshots", "melt_snapshots"}


def li2s(primitive=False):
    """Li2S antifluorite (a = 5.71 Å): 12 atoms, or 3 in the primitive cell."""
    return crystal(["Li", "S"], [(0.25, 0.25, 0.25), (0, 0, 0)], spacegroup=225,
                   cellpar=[5.71, 5.71, 5.71, 90, 90, 90], primitive_cell=primitive)


def labelled_li2s():
    atoms = li2s()
    atoms.calc = SinglePointCalculator(atoms, energy=-1.0, forces=np.zeros((len(atoms), 3)))
    atoms.info["provenance"] = {"source": "library:Li2S", "level": "DFT", "group": "g1"}
    return atoms


def copper():
    return bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)  # 32 atoms, EMT


def same_structures(a, b):
    return len(a) == len(b) and all(
        x.get_chemical_symbols() == y.get_chemical_symbols()
        and np.array_equal(x.positions, y.positions) and np.array_equal(x.cell[:], y.cell[:])
        for x, y in zip(a, b))


def counts(atoms):
    symbols = atoms.get_chemical_symbols()
    return {s: symbols.count(s) for s in set(symbols)}


def new_atom_distances(atoms, n_new):
    """Minimum-image distances (shape (n_new, N - 1)) from the last n_new atoms to the others."""
    _, d = get_distances(atoms.positions[-n_new:], atoms.positions, cell=atoms.cell, pbc=True)
    own = np.arange(len(atoms) - n_new, len(atoms))
    return np.array([np.delete(row, i) for row, i in zip(d, own)])


def last_step(atoms):
    return atoms.info["provenance"]["generators"][-1]


PIPELINE = [{"name": "supercell", "params": {"repeat": [2, 1, 1]}},
            {"name": "vacancies", "params": {"n": 2, "n_copies": 2}},
            {"name": "rattle", "params": {"stdev_A": 0.05, "n_copies": 2}},
            {"name": "strain", "params": {"volumetric": [-0.03, 0.03], "shear": 0.02}}]


# ----------------------------------------------------------------------------- registry
def test_registry_describes_every_builtin_as_json():
    assert BUILTINS <= set(available_generators()) and BUILTINS <= set(GENERATORS)
    described = {d["name"]: d for d in json.loads(json.dumps(describe_generators()))}
    for name in BUILTINS:
        params = {p["name"]: p for p in described[name]["parameters"]}
        assert described[name]["summary"] and "min_distance_A" in params
        assert all(p["description"] for p in params.values()), name
    rattle = {p["name"]: p for p in described["rattle"]["parameters"]}
    assert rattle["stdev_A"]["default"] == 0.05 and not rattle["stdev_A"]["required"]
    assert {p["name"] for p in described["swap"]["parameters"] if p["required"]} == {"species"}
    strain = {p["name"]: p["default"] for p in described["strain"]["parameters"]}
    assert strain["volumetric"] == [-0.05, 0.05]


def test_unknown_names_and_bad_values_raise_user_input_errors():
    with pytest.raises(UserInputError, match="unknown generator 'jiggle'.*rattle"):
        GeneratorStep("jiggle")
    with pytest.raises(UserInputError, match="no parameter 'stdev'.*stdev_A, n_copies"):
        GeneratorStep("rattle", {"stdev": 0.1})
    with pytest.raises(UserInputError, match="needs parameter 'species'"):
        GeneratorStep("swap")
    with pytest.raises(UserInputError, match="cannot be stored"):
        GeneratorStep("rattle", {"stdev_A": object()})
    with pytest.raises(UserInputError, match=r"rattle.stdev_A must be .* > 0"):
        apply_generator(li2s(), "rattle", seed=0, params={"stdev_A": -0.1})
    with pytest.raises(UserInputError, match="exactly one of repeat"):
        apply_generator(li2s(), "supercell", seed=0)
    with pytest.raises(UserInputError, match="pipeline step 2: .*unknown keys"):
        pipeline_from_json([{"name": "rattle"}, {"name": "rattle", "parms": {}}])


def test_register_generator_checks_the_signature_and_notes_reach_provenance():
    with pytest.raises(TypeError, match="fn\\(atoms, \\*, rng"):
        register_generator("bad_signature_test")(lambda atoms, rng: [atoms])

    @register_generator("shift_test")
    def shift(atoms, *, rng, dx_A=1.0):
        """Shift all atoms along x.

        Parameters
        ----------
        dx_A : float
            Shift, Å.
        """
        atoms.positions[:, 0] += dx_A
        return [annotate(atoms, temperature_K=123.0, moved=True)]

    try:
        (out,) = apply_pipeline(li2s(), [GeneratorStep("shift_test", {"dx_A": 0.5})])
        np.testing.assert_allclose(out.positions[:, 0], li2s().positions[:, 0] + 0.5)
        assert last_step(out)["moved"] is True and last_step(out)["params"]["dx_A"] == 0.5
        assert out.info["provenance"]["temperature_K"] == 123.0
        assert "_generator_step_notes" not in out.info
        entry = {d["name"]: d for d in describe_generators()}["shift_test"]
        assert entry["summary"] == "Shift all atoms along x."
        assert entry["parameters"][0]["description"] == "Shift, Å."
    finally:
        GENERATORS.pop("shift_test")


# ----------------------------------------------------------------------------- pipelines
def test_same_seed_gives_identical_structures_and_different_seeds_differ():
    first = apply_pipeline([li2s()], PIPELINE, seed=11)
    again = apply_pipeline([li2s()], PIPELINE, seed=11)
    other = apply_pipeline([li2s()], PIPELINE, seed=12)
    assert len(first) == 2 * 2 * 1 == 4
    assert same_structures(first, again)
    assert [a.info["provenance"] for a in first] == [a.info["provenance"] for a in again]
    assert not any(np.allclose(a.positions, b.positions) for a, b in zip(first, other)
                   if len(a) == len(b))


def test_step_seed_fixes_a_step_independently_of_the_pipeline_seed():
    step = GeneratorStep("rattle", {"stdev_A": 0.1}, seed=5)
    a = apply_pipeline([li2s()], [step], seed=1)
    b = apply_pipeline([li2s()], [step], seed=2)
    assert same_structures(a, b) and last_step(a[0])["seed"] == derive_seed(
        1, step_index=0, input_index=0, step_seed=5)
    assert derive_seed(1, step_index=0, input_index=0) != derive_seed(1, step_index=0,
                                                                      input_index=1)


def test_provenance_chain_is_ordered_json_and_replayable():
    atoms = labelled_li2s()
    before = (atoms.positions.copy(), json.dumps(atoms.info["provenance"], sort_keys=True))
    outputs = apply_pipeline([atoms], PIPELINE, seed=3)
    assert np.array_equal(atoms.positions, before[0])  # inputs never mutated
    assert json.dumps(atoms.info["provenance"], sort_keys=True) == before[1]
    assert atoms.calc is not None
    for k, out in enumerate(outputs):
        prov = json.loads(json.dumps(out.info["provenance"]))
        assert prov["source"] == "library:Li2S" and prov["group"] == "g1"
        assert "level" not in prov and out.calc is None  # outputs are unlabelled
        chain = prov["generators"]
        assert [s["name"] for s in chain] == [s["name"] for s in PIPELINE]
        assert chain[2]["params"] == {"stdev_A": 0.05, "n_copies": 2, "min_distance_A": 0.5}
        assert chain[0]["seed"] == derive_seed(3, step_index=0, input_index=0)
        assert chain[3]["seed"] == derive_seed(3, step_index=3, input_index=k)
    # replay one step alone from its recorded seed and params
    step = outputs[1].info["provenance"]["generators"][3]
    parent = apply_pipeline([atoms], PIPELINE[:3], seed=3)[1]
    (replayed,) = apply_generator(parent, step["name"], seed=step["seed"],
                                  params=step["params"])
    assert np.array_equal(replayed.positions, outputs[1].positions)


def test_pipeline_json_round_trip_gives_equal_steps_and_outputs():
    steps = pipeline_from_json(PIPELINE + [{"name": "swap", "params": {"species": ("Li", "S")},
                                            "seed": 9}])
    text = json.dumps(pipeline_to_json(steps))
    again = pipeline_from_json(json.loads(text))
    assert again == steps and pipeline_from_json(text) == steps
    assert steps[-1].params["species"] == ["Li", "S"] and steps[-1].seed == 9
    assert same_structures(apply_pipeline([li2s()], steps, seed=4),
                           apply_pipeline([li2s()], text, seed=4))


def test_cancel_stops_between_items_and_progress_reaches_one():
    calls, seen = [], []
    with pytest.raises(GenerationCancelled) as info:
        apply_pipeline([li2s()] * 3, [GeneratorStep("rattle")], seed=0,
                       progress=lambda f, m: seen.append(f),
                       cancel=lambda: calls.append(1) or len(calls) > 2)
    assert isinstance(info.value, SSEStudioError) and info.value.n_done == 2
    assert len(seen) == 2
    fractions = []
    apply_pipeline([li2s()] * 2, PIPELINE[:2], seed=0, progress=lambda f, m: fractions.append(f))
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert len(fractions) == 2 + 2


def test_empty_pipeline_returns_unlabelled_copies():
    atoms = labelled_li2s()
    (out,) = apply_pipeline(atoms, [])
    assert out is not atoms and out.calc is None and np.array_equal(out.positions, atoms.positions)
    out.info["provenance"]["source"] = "changed"
    assert atoms.info["provenance"]["source"] == "library:Li2S"


def test_outputs_with_atoms_too_close_raise():
    atoms = Atoms("Li2", positions=[[0, 0, 0], [0.3, 0, 0]], cell=[5, 5, 5], pbc=True)
    with pytest.raises(GeneratorError, match="0.300 Å apart"):
        apply_generator(atoms, "supercell", seed=0, params={"repeat": 1})
    assert len(apply_generator(atoms, "supercell", seed=0,
                               params={"repeat": 2, "min_distance_A": 0.2})[0]) == 16
    with pytest.raises(GeneratorError, match="attempts"):  # Li-S is 2.47 Å: always fails
        apply_generator(li2s(), "rattle", seed=0, params={"min_distance_A": 3.0})


# ----------------------------------------------------------------------------- geometry
def test_supercell_by_repeat_and_by_minimum_width():
    (out,) = apply_generator(li2s(), "supercell", seed=0, params={"repeat": [2, 1, 3]})
    assert len(out) == 12 * 6 and np.allclose(out.cell.lengths(), [11.42, 5.71, 17.13])
    prim = li2s(primitive=True)
    widths = perpendicular_widths(prim.cell[:])
    a, b, _ = prim.cell[:]
    assert widths[2] == pytest.approx(prim.get_volume() / np.linalg.norm(np.cross(a, b)))
    (big,) = apply_generator(prim, "supercell", seed=0, params={"min_length_A": 10.0})
    reps = last_step(big)["repeat"]
    assert reps == [4, 4, 4] and len(big) == 3 * 64  # width a/sqrt(3) = 3.297 Å
    assert min(perpendicular_widths(big.cell[:])) >= 10.0
    assert all(w * (n - 1) < 10.0 for w, n in zip(widths, reps))  # the smallest such
    with pytest.raises(UserInputError, match="max_atoms"):
        apply_generator(prim, "supercell", seed=0, params={"repeat": 10, "max_atoms": 1000})


def test_rattle_displacements_have_the_requested_statistics():
    base = li2s().repeat(2)
    outs = apply_generator(base, "rattle", seed=2, params={"stdev_A": 0.1, "n_copies": 5})
    assert len(outs) == 5
    disp = np.array([o.positions - base.positions for o in outs])  # shape (5, 96, 3)
    assert disp.std() == pytest.approx(0.1, rel=0.08) and abs(disp.mean()) < 0.01
    assert not np.allclose(disp[0], disp[1])
    assert all(np.array_equal(o.cell[:], base.cell[:]) for o in outs)


def test_strain_volumes_stay_in_range_and_match_the_recorded_strain():
    base = li2s()
    outs = apply_generator(base, "strain", seed=1, params={
        "volumetric": [-0.05, 0.03], "shear": 0.03, "n_copies": 20})
    ratios = np.array([o.get_volume() / base.get_volume() - 1 for o in outs])
    assert np.all((ratios >= -0.05) & (ratios <= 0.03)) and np.ptp(ratios) > 0.04
    recorded = np.array([last_step(o)["volumetric_strain"] for o in outs])
    np.testing.assert_allclose(ratios, recorded, atol=1e-12)
    assert max(abs(o.cell.angles() - 90).max() for o in outs) > 0.5  # sheared
    for o in outs:  # atoms follow the cell
        np.testing.assert_allclose(o.get_scaled_positions(), base.get_scaled_positions(),
                                   atol=1e-9)
    (pure_shear,) = apply_generator(base, "strain", seed=1,
                                    params={"volumetric": None, "shear": 0.05})
    assert pure_shear.get_volume() == pytest.approx(base.get_volume(), rel=1e-12)


# ----------------------------------------------------------------------------- defects
def test_vacancies_count_and_charge_notes():
    base = li2s().repeat(2)  # Li64 S32
    outs = apply_generator(base, "vacancies", seed=0, params={"n": 3, "n_copies": 2})
    for out in outs:
        assert counts(out) == {"Li": 61, "S": 32}
        step = last_step(out)
        assert all(base[i].symbol == "Li" for i in step["removed"]) and len(step["removed"]) == 3
        balance = step["charge_balance"]
        assert balance["net_e"] == -3 and not balance["compensated"]
        assert "-1 e per Li vacancy, uncompensated" in balance["note"]
    assert last_step(outs[0])["removed"] != last_step(outs[1])["removed"]
    (conv,) = apply_generator(base, "vacancies", seed=0,
                              params={"n": 3, "compensate_convert": ["S", "Cl"]})
    assert counts(conv) == {"Li": 61, "S": 29, "Cl": 3}
    assert last_step(conv)["charge_balance"]["compensated"]
    assert last_step(conv)["charge_balance"]["net_e"] == 0
    (schottky,) = apply_generator(base, "vacancies", seed=0,
                                  params={"n": 2, "compensate_remove": "S"})
    assert counts(schottky) == {"Li": 62, "S": 31}
    with pytest.raises(UserInputError, match="whole number"):
        apply_generator(base, "vacancies", seed=0, params={"n": 1, "compensate_remove": "S"})
    with pytest.raises(UserInputError, match="only 64"):
        apply_generator(base, "vacancies", seed=0, params={"n": 65})
    with pytest.raises(UserInputError, match="no Na atoms"):
        apply_generator(base, "vacancies", seed=0, params={"species": "Na"})


def test_stuffing_fills_the_largest_sites_and_keeps_distances():
    base = li2s()
    outs = apply_generator(base, "stuffing", seed=0, params={"n": 2, "n_copies": 3})
    for out in outs:
        assert counts(out) == {"Li": 10, "S": 4}
        # octahedral sites: 2.47 Å from Li, 2.86 Å from S (grid of ~0.4 Å)
        assert new_atom_distances(out, 2).min() > 2.2
        balance = last_step(out)["charge_balance"]
        assert balance["net_e"] == 2
        assert "+1 e per Li interstitial, uncompensated" in balance["note"]
    assert len({tuple(np.round(o.positions[-1], 3)) for o in outs}) > 1  # equivalent sites
    (frenkel,) = apply_generator(base, "stuffing", seed=0,
                                 params={"n": 1, "compensate_remove": "Li"})
    assert counts(frenkel) == counts(base) and last_step(frenkel)["charge_balance"]["compensated"]
    random = apply_generator(base, "stuffing", seed=0, params={
        "n": 3, "site_choice": "random", "min_site_distance_A": 1.8})
    assert new_atom_distances(random[0], 3).min() >= 1.8
    with pytest.raises(UserInputError, match="no empty site"):
        apply_generator(base, "stuffing", seed=0, params={"min_site_distance_A": 3.0})


@pytest.mark.parametrize("symbols, cellpar", [
    ("LiS2", [4.0, 5.0, 6.0, 60, 70, 80]),
    ("Li", [2.0, 6.0, 6.0, 90, 90, 20]),  # so skewed that the 27 nearest cells miss images
])
def test_empty_site_clearance_matches_brute_force_in_skewed_cells(symbols, cellpar):
    rng = np.random.default_rng(0)
    atoms = Atoms(symbols, cell=Atoms(cell=cellpar).cell, pbc=True)
    atoms.set_scaled_positions(rng.random((len(atoms), 3)))
    points, clearance = empty_sites(atoms, grid_spacing_A=0.7)
    _, d = get_distances(points, atoms.positions, cell=atoms.cell, pbc=True)
    np.testing.assert_allclose(clearance, d.min(axis=1), atol=1e-9)


def test_swap_exchanges_sites_and_keeps_the_composition():
    start = apply_generator(li2s().repeat(2), "substitute", seed=0,
                            params={"replace": "S", "by": "Cl", "n": 4})[0]
    outs = apply_generator(start, "swap", seed=1, params={"species": ["S", "Cl"], "n_pairs": 2,
                                                          "n_copies": 2})
    for out in outs:
        assert counts(out) == counts(start) and np.array_equal(out.positions, start.positions)
        changed = np.flatnonzero(out.numbers != start.numbers)
        pairs = last_step(out)["pairs"]
        assert len(changed) == 4 and sorted(i for pair in pairs for i in pair) == changed.tolist()
        assert all(start[i].symbol == "S" and out[i].symbol == "Cl" for i, _ in pairs)
        assert last_step(out)["charge_balance"]["net_e"] == 0
    with pytest.raises(UserInputError, match="only 4"):
        apply_generator(start, "swap", seed=0, params={"species": ["S", "Cl"], "n_pairs": 5})


def test_substitute_by_number_or_fraction_notes_the_charge_change():
    base = li2s().repeat(2)
    (cl,) = apply_generator(base, "substitute", seed=0,
                            params={"replace": "S", "by": "Cl", "fraction": 0.25})
    assert counts(cl) == {"Li": 64, "S": 24, "Cl": 8}
    balance = last_step(cl)["charge_balance"]
    assert balance["per_defect_e"] == 1 and balance["net_e"] == 8
    assert "uncompensated" in balance["note"]
    (o,) = apply_generator(base, "substitute", seed=0, params={"replace": "S", "by": "O", "n": 2})
    assert counts(o)["O"] == 2 and "unchanged" in last_step(o)["charge_balance"]["note"]
    (custom,) = apply_generator(base, "substitute", seed=0, params={
        "replace": "S", "by": "Cl", "n": 1, "oxidation_states": {"Cl": -2}})
    assert last_step(custom)["charge_balance"]["net_e"] == 0
    with pytest.raises(UserInputError, match="exactly one of n"):
        apply_generator(base, "substitute", seed=0,
                        params={"replace": "S", "by": "O", "n": 1, "fraction": 0.1})
    with pytest.raises(UserInputError, match="chemical symbol"):
        apply_generator(base, "substitute", seed=0, params={"replace": "S", "by": "Xx", "n": 1})


# ----------------------------------------------------------------------------- MD
MD = {"calculator": "emt", "n_snapshots": 3, "equilibration_steps": 10, "interval": 5,
      "timestep_fs": 2.0}


def test_md_snapshots_with_emt_record_temperatures_and_reproduce():
    params = {**MD, "temperatures_K": [300, 900]}
    snaps = apply_pipeline(copper(), [GeneratorStep("md_snapshots", params)], seed=5)
    assert len(snaps) == 6
    assert [s.info["provenance"]["temperature_K"] for s in snaps] == [300] * 3 + [900] * 3
    assert [last_step(s)["md_step"] for s in snaps[:3]] == [15, 20, 25]
    assert last_step(snaps[0])["time_fs"] == 30.0
    assert all(s.calc is None and "momenta" not in s.arrays and not s.constraints
               for s in snaps)
    assert not np.allclose(snaps[0].positions, snaps[1].positions)
    assert same_structures(snaps, apply_pipeline(copper(), [GeneratorStep("md_snapshots",
                                                                          params)], seed=5))
    assert not same_structures(snaps, apply_pipeline(copper(), [GeneratorStep(
        "md_snapshots", params)], seed=6))


def test_md_snapshots_with_lj_and_no_equilibration():
    snaps = apply_generator(li2s(), "md_snapshots", seed=0, params={
        **MD, "calculator": "lj", "calculator_options": {"sigma": 2.0, "epsilon": 0.01},
        "equilibration_steps": 0, "n_snapshots": 2})
    assert len(snaps) == 2 and [last_step(s)["md_step"] for s in snaps] == [5, 10]
    assert all(s.info["provenance"]["temperature_K"] == 300.0 for s in snaps)


def test_melt_snapshots_expand_rattle_and_record_the_temperature():
    base = copper()
    snaps = apply_generator(base, "melt_snapshots", seed=0, params={**MD, "volume_scale": 1.1})
    assert len(snaps) == 3
    for snap in snaps:
        assert snap.get_volume() / base.get_volume() == pytest.approx(1.1)
        assert snap.info["provenance"]["temperature_K"] == 1200.0
        assert last_step(snap)["volume_scale"] == 1.1


class _NaNCalculator(Calculator):
    implemented_properties = ("energy", "forces")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": float("nan"), "forces": np.zeros((len(self.atoms), 3))}


def test_md_generators_stop_with_clear_errors():
    from ssestudio.calculators import register_calculator
    from ssestudio.calculators.registry import _REGISTRY

    squeezed = copper()
    squeezed.positions[1] = squeezed.positions[0] + [0.4, 0, 0]
    with pytest.raises(GeneratorError, match=r"md_snapshots at 300 K .* 0.400 Å apart"):
        apply_generator(squeezed, "md_snapshots", seed=0, params=MD)
    register_calculator("nan_test")(_NaNCalculator)
    try:
        with pytest.raises(GeneratorError, match="non-finite"):
            apply_generator(copper(), "md_snapshots", seed=0,
                            params={**MD, "calculator": "nan_test"})
    finally:
        _REGISTRY.pop("nan_test")
    with pytest.raises(UserInputError, match="unknown calculator"):
        apply_generator(copper(), "md_snapshots", seed=0, params={**MD, "calculator": "nope"})
