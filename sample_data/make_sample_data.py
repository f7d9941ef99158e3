"""Regenerate the bundled sample data (see README.md in this folder).

Usage (from the repository root)::

    python sample_data/make_sample_data.py structures     # crystal + glass start
    python sample_data/make_sample_data.py md             # needs `pip install sevenn`
    python sample_data/make_sample_data.py native         # needs ssestudio installed
    python sample_data/make_sample_data.py model          # ~65 min on 2 cores: dataset + training

``md`` runs a short Langevin MD of a 64-atom Li3PS4-composition melt with the offline
foundation model SevenNet-0 (sevenn wheel, weights included, no network) and writes
extended XYZ with energies and forces. ``native`` converts it to the project's HDF5
trajectory format. ``model`` builds a Li-P-S dataset with the dataset builder (MD snapshots
with SevenNet-0 of glasses and crystals, strained and rattled crystals and glasses),
labels it with SevenNet-0, and trains the built-in default model on it for 25 minutes,
then resumes the run for 20 more
(exactly the ``ssestudio`` commands in :data:`MODEL_COMMANDS`). Everything is seeded, so reruns give the same files up to floating
point differences between machines and library versions.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
STRUCTURES = HERE / "structures"
TRAJECTORIES = HERE / "trajectories"

#: Antifluorite Li2S, Fm-3m (No. 225), S on 4a, Li on 8c; a = 5.71 Å, the room-temperature
#: experimental lattice parameter (reported values lie between 5.69 and 5.72 Å).
LI2S_A = 5.71
#: 75Li2S-25P2S5 (Li3PS4 composition) glass/melt density, g/cm^3 (measured glasses lie near
#: 1.87-1.93 g/cm^3).
GLASS_DENSITY_G_CM3 = 1.88
SEED = 20261125


def li2s_crystal():
    """Conventional cubic antifluorite Li2S cell (12 atoms)."""
    from ase.spacegroup import crystal

    return crystal(["S", "Li"], basis=[(0, 0, 0), (0.25, 0.25, 0.25)], spacegroup=225,
                   cellpar=[LI2S_A, LI2S_A, LI2S_A, 90, 90, 90])


def _min_image_dist(pos: np.ndarray, trial: np.ndarray, box: float) -> np.ndarray:
    d = pos - trial
    d -= box * np.round(d / box)
    return np.linalg.norm(d, axis=-1)


def li3ps4_start(*, n_units: int = 8, density_g_cm3: float = GLASS_DENSITY_G_CM3,
                 seed: int = SEED, max_tries: int = 200000):
    """Random packing of rigid PS4 tetrahedra plus Li in a cubic box (Li3PS4 composition).

    Orthothiophosphate units (P-S 2.05 Å) are placed on a jittered grid with random
    orientations, S-S between units at least 3.3 Å apart (minimum image); Li atoms then
    keep at least 2.3 Å from S, 2.9 Å from P and 2.2 Å from other Li.
    """
    from ase import Atoms
    from ase.data import atomic_masses, atomic_numbers
    from scipy.spatial.transform import Rotation

    rng = np.random.default_rng(seed)
    n_li = 3 * n_units
    mass = (n_li * atomic_masses[atomic_numbers["Li"]] + n_units * atomic_masses[15]
            + 4 * n_units * atomic_masses[16])
    box = (mass / 6.02214076e23 / density_g_cm3 * 1e24) ** (1 / 3)  # Å
    tet = 2.05 / np.sqrt(3) * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    # PS4 centres on a jittered simple-cubic grid (random sequential insertion jams at
    # this density), each with a random orientation redrawn until S-S contacts are >= 3.3 Å
    n_side = int(np.ceil(n_units ** (1 / 3)))
    grid = (np.indices((n_side,) * 3).reshape(3, -1).T[:n_units] + 0.5) * box / n_side
    p_pos, s_pos = np.empty((0, 3)), np.empty((0, 3))
    for centre in grid:
        for _ in range(max_tries):
            c = (centre + rng.normal(scale=0.3, size=3)) % box
            ligands = c + Rotation.random(random_state=rng.integers(2**31)).apply(tet)
            if not len(s_pos) or min(_min_image_dist(s_pos, x, box).min() for x in ligands) >= 3.3:
                break
        p_pos, s_pos = np.vstack([p_pos, c]), np.vstack([s_pos, ligands])
    li_pos = np.empty((0, 3))
    for _ in range(max_tries):
        if len(li_pos) == n_li:
            break
        trial = rng.random(3) * box
        if (_min_image_dist(s_pos, trial, box).min() < 2.3
                or _min_image_dist(p_pos, trial, box).min() < 2.9
                or (len(li_pos) and _min_image_dist(li_pos, trial, box).min() < 2.2)):
            continue
        li_pos = np.vstack([li_pos, trial])
    if len(p_pos) < n_units or len(li_pos) < n_li:
        raise RuntimeError(f"random packing failed ({len(p_pos)} PS4, {len(li_pos)} Li placed): "
                           "lower the density")
    symbols = ["Li"] * n_li + ["P"] * n_units + ["S"] * (4 * n_units)
    atoms = Atoms(symbols, positions=np.vstack([li_pos, p_pos, s_pos]), cell=[box] * 3, pbc=True)
    atoms.wrap()
    return atoms


def make_structures() -> None:
    import ase.io

    STRUCTURES.mkdir(exist_ok=True)
    ase.io.write(STRUCTURES / "Li2S_antifluorite.cif", li2s_crystal())
    ase.io.write(STRUCTURES / "Li3PS4_random_start_64.extxyz", li3ps4_start())


def run_md(*, temperature_K: float = 800.0, timestep_fs: float = 2.0, n_steps: int = 750,
           interval: int = 5) -> None:
    """Relax the random Li3PS4 start, then Langevin MD with SevenNet-0; writes extxyz frames."""
    import ase.io
    import torch
    from ase import units
    from ase.md.langevin import Langevin
    from ase.optimize import FIRE
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from sevenn.calculator import SevenNetCalculator

    torch.set_num_threads(1)
    atoms = ase.io.read(STRUCTURES / "Li3PS4_random_start_64.extxyz")
    atoms.calc = SevenNetCalculator("7net-0", device="cpu")
    FIRE(atoms, logfile=None).run(fmax=0.1, steps=150)  # the random start is far from a minimum
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_K, rng=np.random.default_rng(SEED))
    dyn = Langevin(atoms, timestep_fs * units.fs, temperature_K=temperature_K, friction=0.02,
                   rng=np.random.default_rng(SEED + 1))
    TRAJECTORIES.mkdir(exist_ok=True)
    out = TRAJECTORIES / "li3ps4_melt_800K.extxyz"
    out.unlink(missing_ok=True)
    t0 = time.time()

    def write():
        step = dyn.nsteps
        atoms.info["time_fs"] = step * timestep_fs
        atoms.info["step"] = step
        ase.io.write(out, atoms, format="extxyz", append=True)
        print(f"step {step}/{n_steps} T={atoms.get_temperature():.0f} K "
              f"E={atoms.get_potential_energy():.3f} eV ({time.time() - t0:.0f} s)", flush=True)

    dyn.attach(write, interval=interval)
    dyn.run(n_steps)


def make_native(*, keep_xyz_frames: int = 40, timestep_fs: float = 10.0) -> None:
    """Convert the MD extxyz to native HDF5; keep only the first frames as extxyz."""
    import ase.io

    from ssestudio.io import open_trajectory, convert_trajectory

    src = TRAJECTORIES / "li3ps4_melt_800K.extxyz"
    traj = open_trajectory(src, timestep_fs=timestep_fs)
    convert_trajectory(traj, TRAJECTORIES / "li3ps4_melt_800K.h5")
    frames = ase.io.read(src, index=f":{keep_xyz_frames}")
    short = TRAJECTORIES / "li3ps4_melt_800K_short.extxyz"
    ase.io.write(short, frames, format="extxyz")
    src.unlink()


MODELS = HERE / "models"
#: The ``ssestudio`` commands behind ``models/lps_default.pt`` (run in a scratch workspace).
_SEVENN = ["calculator=sevenn", 'calculator_options={"num_threads":1}']
_STRAIN = ["--step", "strain", "volumetric=[-0.04,0.04]"]
MODEL_COMMANDS: list[list[str]] = [
    ["dataset", "new", "lps"],
    ["dataset", "add", "lps", "--source", "glass:75Li2S-25P2S5:64", "--step", "md_snapshots",
     *_SEVENN, "temperatures_K=[500,800,1100]", "n_snapshots=12", "interval=10",
     "equilibration_steps=30", "--seed", "11"],
    ["dataset", "add", "lps", "--source", "glass:70Li2S-30P2S5:64", "--step", "md_snapshots",
     *_SEVENN, "temperatures_K=[600,1000]", "n_snapshots=12", "interval=10",
     "equilibration_steps=30", "--seed", "12"],
    ["dataset", "add", "lps", "--source", "library:beta_li3ps4", "--step", "supercell",
     "min_length_A=8", "--step", "md_snapshots", *_SEVENN, "temperatures_K=[400,700]",
     "n_snapshots=12", "interval=10", "equilibration_steps=20", "--seed", "13"],
    ["dataset", "add", "lps", "--source", "library:gamma_li3ps4", "--step", "supercell",
     "min_length_A=8", "--step", "md_snapshots", *_SEVENN, "temperatures_K=[400,700]",
     "n_snapshots=12", "interval=10", "equilibration_steps=20", "--seed", "14"],
    ["dataset", "add", "lps", "--source", "library:beta_li3ps4", "--step", "supercell",
     "min_length_A=8", *_STRAIN, "shear=0.02", "n_copies=5", "--step", "rattle",
     "stdev_A=0.06", "n_copies=20", "--seed", "1"],
    ["dataset", "add", "lps", "--source", "library:gamma_li3ps4", "--step", "supercell",
     "min_length_A=8", *_STRAIN, "shear=0.02", "n_copies=5", "--step", "rattle",
     "stdev_A=0.06", "n_copies=16", "--seed", "2"],
    ["dataset", "add", "lps", "--source", "glass:75Li2S-25P2S5:64", *_STRAIN, "n_copies=5",
     "--step", "rattle", "stdev_A=0.06", "n_copies=16", "--seed", "3"],
    ["dataset", "add", "lps", "--source", "glass:70Li2S-30P2S5:84", *_STRAIN, "n_copies=4",
     "--step", "rattle", "stdev_A=0.06", "n_copies=15", "--seed", "4"],
    ["dataset", "add", "lps", "--source", "library:li2s", "--step", "supercell", "min_length_A=8",
     *_STRAIN, "shear=0.02", "n_copies=3", "--step", "rattle", "stdev_A=0.06", "n_copies=10",
     "--seed", "5"],
    ["dataset", "label", "lps", "--teacher", "sevenn"],
    ["dataset", "add", "lps", "--source", "glass:75Li2S-25P2S5:64", "--step", "strain",
     "volumetric=[-0.05,0.05]", "shear=0.02", "n_copies=4", "--step", "rattle", "stdev_A=0.1",
     "n_copies=15", "--seed", "21"],
    ["dataset", "label", "lps", "--teacher", "sevenn"],
    ["train", "--dataset", "lps@2", "--model", "default", "--max-time-min", "25", "--epochs",
     "5000", "--threads", "1", "--set", "early_stopping_patience=100", "--set",
     "energy_weight=100", "--name", "lps-default"],
    ["train", "--resume", "{root}/models/lps-default", "--max-time-min", "20", "--threads", "1"],
]


def make_model(workspace: Path | None = None) -> None:
    """Build the Li-P-S dataset, label it with SevenNet-0, train ``models/lps_default.pt``."""
    import shutil
    import tempfile

    from ssestudio.cli.main import main

    root = Path(workspace or tempfile.mkdtemp(prefix="sse-sample-model-")) / "ws"
    for command in MODEL_COMMANDS:
        command = [part.format(root=root) if "{root}" in part else part for part in command]
        print("ssestudio", " ".join(command), flush=True)
        if main([*command, "--workspace", str(root)]) != 0:
            sys.exit(f"failed: ssestudio {' '.join(command)}")
    MODELS.mkdir(exist_ok=True)
    shutil.copyfile(root / "models" / "lps-default" / "best.pt", MODELS / "lps_default.pt")


if __name__ == "__main__":
    steps = {"structures": make_structures, "md": run_md, "native": make_native,
             "model": make_model}
    for name in sys.argv[1:] or list(steps):
        if name not in steps:
            sys.exit(f"unknown step {name!r}; choose from {', '.join(steps)}")
        steps[name]()
