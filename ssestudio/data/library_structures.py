"""Structure data of the library (one :class:`~ssestudio.data.library.LibraryEntry` each).

Conventions
-----------
* Cells and Wyckoff positions are those of the cited source, in the ASE setting given
  (``setting=1`` is origin choice 1 where a group has two).
* Occupancies are exact fractions chosen so that the ordered cells are stoichiometric and
  charge neutral; refined values that differ are quoted in the comment next to the site.
* ``source_density_g_cm3`` is computed from the published cell, Z and the formula with
  ASE's atomic masses.
* ``coordinates`` says how far the internal coordinates can be trusted (see
  :class:`~ssestudio.data.library.LibraryEntry`): check the ``notes`` of every entry that is
  not ``"published"`` before relying on its details.
"""

from __future__ import annotations

from ssestudio.data.library import LibraryEntry, Site

# --- Li2S, antifluorite --------------------------------------------------------------------
# E. Zintl, A. Harder, B. Dauth, Z. Elektrochem. Angew. Phys. Chem. 40, 588 (1934),
# doi:10.1002/bbpc.19340400811. Fm-3m, S on 4a, Li on 8c, a = 5.708 Å (room temperature;
# later measurements give 5.69-5.72 Å).
LI2S = LibraryEntry(
    name="li2s",
    formula="Li2S",
    description="Lithium sulfide, antifluorite; end member of the Li2S-P2S5 system",
    spacegroup=225,
    spacegroup_symbol="Fm-3m",
    cellpar=(5.708, 5.708, 5.708, 90, 90, 90),
    sites=(
        Site("S1", "4a", (0.0, 0.0, 0.0), {"S": 1}),
        Site("Li1", "8c", (0.25, 0.25, 0.25), {"Li": 1}),
    ),
    formula_units=4,
    oxidation_states={"Li": 1, "S": -2},
    reference="E. Zintl, A. Harder, B. Dauth, Z. Elektrochem. 40, 588 (1934), "
              "doi:10.1002/bbpc.19340400811",
    source_density_g_cm3=1.6408,
    coordinates="published",
    temperature_K=293.0,
)

# --- gamma-Li3PS4 -------------------------------------------------------------------------
# K. Homma, M. Yonemura, T. Kobayashi, M. Nagao, M. Hirayama, R. Kanno, "Crystal structure
# and phase transitions of the lithium ionic conductor Li3PS4", Solid State Ionics 182, 53
# (2011), doi:10.1016/j.ssi.2010.10.013; ICSD 180318 (297 K, X-ray). Pmn2_1, enargite-type
# (isotypic with beta-Li3PO4), all PS4 tetrahedra pointing along +c.
GAMMA_LI3PS4 = LibraryEntry(
    name="gamma_li3ps4",
    formula="Li3PS4",
    description="gamma-Li3PS4, the room-temperature polymorph (PS4 tetrahedra all parallel)",
    spacegroup=31,
    spacegroup_symbol="Pmn2_1",
    cellpar=(7.70829, 6.53521, 6.1365, 90, 90, 90),
    sites=(
        Site("P1", "2a", (0.0, 0.8203, 0.0), {"P": 1}),
        Site("S1", "4b", (0.2163, 0.6717, 0.8878), {"S": 1}),
        Site("S2", "2a", (0.0, 0.1180, 0.8992), {"S": 1}),
        Site("S3", "2a", (0.0, 0.8056, 0.3369), {"S": 1}),
        Site("Li1", "4b", (0.2472, 0.3296, 0.9928), {"Li": 1}),
        Site("Li2", "2a", (0.0, 0.1665, 0.4790), {"Li": 1}),
    ),
    formula_units=2,
    oxidation_states={"Li": 1, "P": 5, "S": -2},
    reference="K. Homma et al., Solid State Ionics 182, 53 (2011), doi:10.1016/j.ssi.2010.10.013",
    source_density_g_cm3=1.9342,
    coordinates="recalled",
    icsd=180318,
    temperature_K=297.0,
    notes="Coordinates quoted from memory of the ICSD 180318 record: P-S 2.04-2.07 Å, "
          "Li-S >= 2.34 Å, and SevenNet-0 forces at most 0.27 eV/Å (a symmetry-constrained "
          "relaxation moves no atom by more than 0.13 Å), so they are close to the refined "
          "ones but check them against the source before quoting digits.",
)

# --- beta-Li3PS4 --------------------------------------------------------------------------
# Homma et al. 2011 (as above), 637 K phase, Pnma. Li over 8d (full), 4b (refined ~0.7) and
# 4c (~0.3); the framework is that of gamma-Li3PO4 (PS4 tetrahedra in zigzag rows).
BETA_LI3PS4 = LibraryEntry(
    name="beta_li3ps4",
    formula="Li3PS4",
    description="beta-Li3PS4, the superionic high-temperature (and nanoporous, metastable) "
                "polymorph; Li disordered over 4b and 4c",
    spacegroup=62,
    spacegroup_symbol="Pnma",
    cellpar=(12.8190, 8.2195, 6.1236, 90, 90, 90),
    sites=(
        Site("P1", "4c", (0.4087, 0.25, 0.6972), {"P": 1}),
        Site("S1", "8d", (0.3380, 0.0410, 0.8067), {"S": 1}),
        Site("S2", "4c", (0.0627, 0.25, 0.7095), {"S": 1}),
        Site("S3", "4c", (0.0984, 0.75, 0.8593), {"S": 1}),
        Site("Li1", "8d", (0.1565, 0.5021, 0.7046), {"Li": 1}),
        Site("Li2", "4b", (0.0, 0.0, 0.5), {"Li": "3/4"}),  # refined ~0.7
        Site("Li3", "4c", (0.4239, 0.75, 0.7854), {"Li": "1/4"}),  # refined ~0.3
    ),
    formula_units=4,
    oxidation_states={"Li": 1, "P": 5, "S": -2},
    reference="K. Homma et al., Solid State Ionics 182, 53 (2011), doi:10.1016/j.ssi.2010.10.013",
    source_density_g_cm3=1.8533,
    coordinates="reconstructed",
    temperature_K=637.0,
    notes="Published cell, space group and Li site multiplicities; the refined coordinates "
          "were not at hand. P, S, Li1 and Li3 come from the gamma-Li3PO4 structure type "
          "(Pnma) relaxed in this cell with SevenNet-0 (symmetry kept, Li on 8d + 4c), Li2 "
          "is the 4b inversion centre. Verify against Homma et al. before quoting.",
)

# --- Li10GeP2S12 (LGPS) -------------------------------------------------------------------
# N. Kamaya et al., "A lithium superionic conductor", Nat. Mater. 10, 682 (2011),
# doi:10.1038/nmat3066 (neutron data, room temperature). P4_2/nmc origin choice 1. Values as
# distributed with pymatgen (pymatgen/util/structures/Li10GeP2S12.json).
LGPS = LibraryEntry(
    name="lgps",
    formula="Li10GeP2S12",
    description="Li10GeP2S12, 1D (c-axis) superionic thiophosphate with Ge/P site sharing",
    spacegroup=137,
    spacegroup_symbol="P4_2/nmc",
    cellpar=(8.69407, 8.69407, 12.5994, 90, 90, 90),
    sites=(
        Site("Ge1/P1", "4d", (0.0, 0.5, 0.3093), {"Ge": "1/2", "P": "1/2"}),  # 0.515/0.485
        Site("P2", "2a", (0.0, 0.0, 0.5), {"P": 1}),
        Site("S1", "8g", (0.0, 0.8157, 0.5897), {"S": 1}),
        Site("S2", "8g", (0.0, 0.7009, 0.9050), {"S": 1}),
        Site("S3", "8g", (0.0, 0.3010, 0.2086), {"S": 1}),
        Site("Li1", "16h", (0.7437, 0.7282, 0.8168), {"Li": "11/16"}),  # refined 0.691
        Site("Li2", "4d", (0.0, 0.5, 0.0554), {"Li": 1}),
        Site("Li3", "8f", (0.7537, 0.7537, 0.0), {"Li": "5/8"}),  # refined 0.643
    ),
    formula_units=2,
    oxidation_states={"Li": 1, "Ge": 4, "P": 5, "S": -2},
    reference="N. Kamaya et al., Nat. Mater. 10, 682 (2011), doi:10.1038/nmat3066",
    source_density_g_cm3=2.0529,
    coordinates="published",
    temperature_K=298.0,
    min_cation_distance=1.7,
    notes="Occupancies rounded to whole atoms per cell (11 + 4 + 5 = 20 Li, 2 Ge + 2 P on "
          "4d); the refinement gives 20.2 Li per cell. The two 16h positions of a pair are "
          "1.73 Å apart and 11 Li on 8 pairs must share some pairs, so cations are only kept "
          ">= 1.7 Å apart here.",
)

# --- Li6PS5Cl argyrodite ------------------------------------------------------------------
# H.-J. Deiseroth, S.-T. Kong, H. Eckert, J. Vannahme, C. Reiner, T. Zaiss, M. Schlosser,
# "Li6PS5X: a class of crystalline Li-rich solids with an unusually high Li+ mobility",
# Angew. Chem. Int. Ed. 47, 755 (2008), doi:10.1002/anie.200703900. F-43m: PS4 on 4b,
# Cl on 4a, the "free" S2- on 4c, Li on half of 48h (Li6 cages around 4c).
_ARGYRODITE_SITES = (
    Site("P1", "4b", (0.5, 0.5, 0.5), {"P": 1}),
    Site("S1", "16e", (0.619, 0.619, 0.619), {"S": 1}),
    Site("Li1", "48h", (0.3155, 0.3155, 0.0222), {"Li": "1/2"}),
)
LI6PS5CL = LibraryEntry(
    name="li6ps5cl",
    formula="Li6PS5Cl",
    description="Argyrodite Li6PS5Cl with ordered anions (Cl on 4a, S on 4c)",
    spacegroup=216,
    spacegroup_symbol="F-43m",
    cellpar=(9.85, 9.85, 9.85, 90, 90, 90),
    sites=_ARGYRODITE_SITES + (
        Site("Cl1", "4a", (0.0, 0.0, 0.0), {"Cl": 1}),
        Site("S2", "4c", (0.25, 0.25, 0.25), {"S": 1}),
    ),
    formula_units=4,
    oxidation_states={"Li": 1, "P": 5, "S": -2, "Cl": -1},
    reference="H.-J. Deiseroth et al., Angew. Chem. Int. Ed. 47, 755 (2008), "
              "doi:10.1002/anie.200703900",
    source_density_g_cm3=1.8652,
    coordinates="recalled",
    temperature_K=293.0,
    min_cation_distance=1.9,
    notes="Coordinates quoted from memory (P-S 2.03 Å, Li-S 2.42 Å, Li-Cl 2.58 Å; the anion "
          "framework matches the time-averaged AIMD cell of Morgan 2021). The two 48h "
          "positions of a doublet are 1.82 Å apart; cations are kept >= 1.9 Å apart, so "
          "each doublet holds one Li. Real samples show some S/Cl exchange between 4a and "
          "4c: see li6ps5cl_disordered.",
)
LI6PS5CL_DISORDERED = LibraryEntry(
    name="li6ps5cl_disordered",
    formula="Li6PS5Cl",
    description="Argyrodite Li6PS5Cl with fully S/Cl-disordered 4a and 4c sites",
    spacegroup=216,
    spacegroup_symbol="F-43m",
    cellpar=(9.85, 9.85, 9.85, 90, 90, 90),
    sites=_ARGYRODITE_SITES + (
        Site("Cl1/S3", "4a", (0.0, 0.0, 0.0), {"Cl": "1/2", "S": "1/2"}),
        Site("S2/Cl2", "4c", (0.25, 0.25, 0.25), {"S": "1/2", "Cl": "1/2"}),
    ),
    formula_units=4,
    oxidation_states={"Li": 1, "P": 5, "S": -2, "Cl": -1},
    reference="Cell and sites: H.-J. Deiseroth et al., Angew. Chem. Int. Ed. 47, 755 (2008), "
              "doi:10.1002/anie.200703900; 50 % anion site disorder as in B. J. Morgan, "
              "Chem. Mater. 33, 2004 (2021), doi:10.1021/acs.chemmater.0c03738",
    source_density_g_cm3=1.8652,
    coordinates="recalled",
    temperature_K=293.0,
    min_cation_distance=1.9,
    notes="Same framework and Li rule as li6ps5cl; each of 4a and 4c holds half Cl, half S.",
)

# --- cubic Li7La3Zr2O12 (LLZO) ------------------------------------------------------------
# J. Awaka, A. Takashima, K. Kataoka, N. Kijima, Y. Idemoto, J. Akimoto, "Crystal structure
# of fast lithium-ion-conducting cubic Li7La3Zr2O12", Chem. Lett. 40, 60 (2011),
# doi:10.1246/cl.2011.60 (single crystal X-ray). Ia-3d garnet; Li over tetrahedral 24d
# (refined 0.564) and octahedral 96h (0.442, two positions 0.85 Å apart in each octahedron).
LLZO = LibraryEntry(
    name="llzo",
    formula="Li7La3Zr2O12",
    description="Cubic garnet Li7La3Zr2O12, Li disordered over tetrahedral 24d and "
                "octahedral 96h sites",
    spacegroup=230,
    spacegroup_symbol="Ia-3d",
    cellpar=(12.9682, 12.9682, 12.9682, 90, 90, 90),
    sites=(
        Site("La1", "24c", (0.125, 0.0, 0.25), {"La": 1}),
        Site("Zr1", "16a", (0.0, 0.0, 0.0), {"Zr": 1}),
        Site("O1", "96h", (0.28016, 0.10024, 0.19539), {"O": 1}),
        Site("Li1", "24d", (0.375, 0.0, 0.25), {"Li": "9/16"}),  # refined 0.564
        # refined: 96h (0.0946, 0.6851, 0.5817), 0.442; here the centre of the 96h pair
        Site("Li2", "48g", (0.125, 0.6767, 0.5733), {"Li": "85/96"}),
    ),
    formula_units=8,
    oxidation_states={"Li": 1, "La": 3, "Zr": 4, "O": -2},
    reference="J. Awaka et al., Chem. Lett. 40, 60 (2011), doi:10.1246/cl.2011.60",
    source_density_g_cm3=5.1149,
    coordinates="recalled",
    temperature_K=298.0,
    notes="13.5 Li on 24d and 42.5 in octahedra per cell reproduce the refined occupancies, "
          "so an ordered model needs an even number of cells. Coordinates quoted from memory "
          "(Zr-O 2.10 Å, La-O 2.50 Å, Li(24d)-O 1.93 Å). Each octahedral Li sits at the "
          "centre (48g) of its refined 96h pair: a 96h position is 1.59 Å from one 24d site, "
          "and with 13.5 occupied 24d sites per cell at most 42 octahedra could avoid that "
          "contact, so the 96h positions cannot be ordered at this composition; 48g is "
          "1.99 Å from both neighbouring 24d sites.",
)

# --- Li3YCl6 ------------------------------------------------------------------------------
# T. Asano, A. Sakai, S. Ouchi, M. Sakaida, A. Miyazaki, S. Hasegawa, "Solid halide
# electrolytes with high lithium-ion conductivity for application in 4 V class bulk-type
# all-solid-state batteries", Adv. Mater. 30, 1803075 (2018), doi:10.1002/adma.201803075.
# P-3m1, hcp Cl with Y and Li in octahedral holes.
LI3YCL6 = LibraryEntry(
    name="li3ycl6",
    formula="Li3YCl6",
    description="Trigonal Li3YCl6 halide electrolyte (hcp Cl, Y and Li in octahedral sites)",
    spacegroup=164,
    spacegroup_symbol="P-3m1",
    cellpar=(11.20, 11.20, 6.04, 90, 90, 120),
    sites=(
        Site("Y1", "1a", (0.0, 0.0, 0.0), {"Y": 1}),
        Site("Y2", "2d", (1 / 3, 2 / 3, 0.5), {"Y": 1}),
        Site("Li1", "6g", (1 / 3, 0.0, 0.0), {"Li": 1}),
        Site("Li2", "6h", (1 / 3, 0.0, 0.5), {"Li": "1/2"}),
        Site("Cl1", "6i", (1 / 9, 8 / 9, 0.25), {"Cl": 1}),
        Site("Cl2", "6i", (4 / 9, 5 / 9, 0.25), {"Cl": 1}),
        Site("Cl3", "6i", (7 / 9, 2 / 9, 0.25), {"Cl": 1}),
    ),
    formula_units=3,
    oxidation_states={"Li": 1, "Y": 3, "Cl": -1},
    reference="T. Asano et al., Adv. Mater. 30, 1803075 (2018), doi:10.1002/adma.201803075",
    source_density_g_cm3=2.4479,
    coordinates="reconstructed",
    temperature_K=298.0,
    notes="Idealised model: cell rounded to 0.01 Å as recalled (a = 11.20, c = 6.04 Å), "
          "ideal hcp Cl positions, Y on 1a and 2d, Li on 6g and half of 6h (one of the "
          "orderings compatible with the P-3m1 cell). The refinement distributes Y and Li "
          "over these sites with partial occupancies and relaxed coordinates; use this "
          "entry as a starting point for relaxation or MD, not as the refined structure.",
)

# --- Li2B12H12 (closo-borate) -------------------------------------------------------------
# J.-H. Her, M. Yousufuddin, W. Zhou, S. S. Jalisatgi, J. G. Kulleck, J. A. Zan, S.-J. Hwang,
# R. C. Bowman Jr., T. J. Udovic, "Crystal structure of Li2B12H12: a possible intermediate
# species in the decomposition of LiBH4", Inorg. Chem. 47, 9757 (2008),
# doi:10.1021/ic801280c. Pa-3: B12H12 icosahedra on 4a (fcc array), Li on 8c (x, x, x).
LI2B12H12 = LibraryEntry(
    name="li2b12h12",
    formula="Li2B12H12",
    description="Lithium closo-dodecaborate, B12H12(2-) icosahedra in an fcc array",
    spacegroup=205,
    spacegroup_symbol="Pa-3",
    cellpar=(9.5771, 9.5771, 9.5771, 90, 90, 90),
    sites=(
        Site("B1", "24d", (0.9945, 0.1101, 0.1373), {"B": 1}),
        Site("B2", "24d", (0.0286, 0.0702, 0.8414), {"B": 1}),
        Site("H1", "24d", (0.9875, 0.1827, 0.2388), {"H": 1}),
        Site("H2", "24d", (0.0523, 0.1170, 0.7267), {"H": 1}),
        Site("Li1", "8c", (0.3429, 0.3429, 0.3429), {"Li": 1}),
    ),
    formula_units=4,
    # B12H12(2-): the cluster charge is carried by B (12 x -1/6 = -2), H counted as 0.
    oxidation_states={"Li": 1, "B": "-1/6", "H": 0},
    reference="J.-H. Her et al., Inorg. Chem. 47, 9757 (2008), doi:10.1021/ic801280c",
    source_density_g_cm3=1.1773,
    coordinates="reconstructed",
    temperature_K=298.0,
    notes="Published cell and site model; the icosahedron orientation (rotation about "
          "[111]) and Li x were obtained by relaxing an ideal B12H12 cage (B-B 1.78 Å) "
          "with SevenNet-0 in this cell (B-B 1.74-1.75 Å, B-H 1.20 Å, Li-H 2.15 Å). "
          "Verify against Her et al. before quoting.",
)

# --- Li7P3S11 -----------------------------------------------------------------------------
# H. Yamane et al., "Crystal structure of a superionic conductor, Li7P3S11", Solid State
# Ionics 178, 1163 (2007), doi:10.1016/j.ssi.2007.05.020; ICSD 157654. P-1, all 21 sites on
# 2i: per asymmetric unit one P2S7 ditetrahedron (P1, P2, bridging S1, S2-S7), one PS4 (P3,
# S8-S11) and 7 Li. Internal coordinates reconstructed (see notes), not the refined ones.
LI7P3S11 = LibraryEntry(
    name="li7p3s11",
    formula="Li7P3S11",
    description="Li7P3S11, the superionic glass-ceramic phase: P2S7 ditetrahedra and PS4 "
                "tetrahedra in a triclinic cell",
    spacegroup=2,
    spacegroup_symbol="P-1",
    cellpar=(12.5009, 6.0316, 12.5303, 102.845, 113.2024, 74.467),
    sites=(
        Site("P1", "2i", (0.2071, 0.8834, 0.8961), {"P": 1}),
        Site("P2", "2i", (0.4223, 0.8348, 0.1822), {"P": 1}),
        Site("P3", "2i", (0.1676, 0.5796, 0.4061), {"P": 1}),
        Site("S1", "2i", (0.3670, 0.9920, 0.0223), {"S": 1}),  # bridging S of P2S7
        Site("S2", "2i", (0.2031, 0.9396, 0.7394), {"S": 1}),
        Site("S3", "2i", (0.0676, 0.1181, 0.9293), {"S": 1}),
        Site("S4", "2i", (0.2170, 0.5515, 0.9078), {"S": 1}),
        Site("S5", "2i", (0.5349, 0.5351, 0.1622), {"S": 1}),
        Site("S6", "2i", (0.2841, 0.7738, 0.2093), {"S": 1}),
        Site("S7", "2i", (0.4895, 0.0845, 0.3132), {"S": 1}),
        Site("S8", "2i", (0.9983, 0.5888, 0.3945), {"S": 1}),
        Site("S9", "2i", (0.2956, 0.3867, 0.5319), {"S": 1}),
        Site("S10", "2i", (0.1926, 0.9130, 0.4481), {"S": 1}),
        Site("S11", "2i", (0.1737, 0.4116, 0.2438), {"S": 1}),
        Site("Li1", "2i", (0.1073, 0.0562, 0.1290), {"Li": 1}),
        Site("Li2", "2i", (0.0068, 0.8198, 0.5933), {"Li": 1}),
        Site("Li3", "2i", (0.3168, 0.0764, 0.3749), {"Li": 1}),
        Site("Li4", "2i", (0.7280, 0.6797, 0.2648), {"Li": 1}),
        Site("Li5", "2i", (0.3509, 0.3667, 0.1649), {"Li": 1}),
        Site("Li6", "2i", (0.6387, 0.2923, 0.3303), {"Li": 1}),
        Site("Li7", "2i", (0.9625, 0.5942, 0.1908), {"Li": 1}),
    ),
    formula_units=2,
    oxidation_states={"Li": 1, "P": 5, "S": -2},
    reference="H. Yamane et al., Solid State Ionics 178, 1163 (2007), "
              "doi:10.1016/j.ssi.2007.05.020",
    source_density_g_cm3=1.9788,
    coordinates="reconstructed",
    icsd=157654,
    temperature_K=298.0,
    notes="Published cell, space group and content (per asymmetric unit one P2S7, one PS4 "
          "and 7 Li, all on 2i); the refined coordinates were not at hand. Internal "
          "coordinates come from a SevenNet-0 relaxation in the fixed published cell with "
          "P-1 symmetry kept, starting from random placements of ideal P2S7 and PS4 units "
          "(and their inversion images, pushed apart as rigid bodies to S-S >= 3.2 Å "
          "between units) with Li at the emptiest points; this is the lowest "
          "of 10 seeds (the others lie 2-36 meV/atom higher), so it is one low-energy "
          "arrangement, not necessarily the real one. P-S 2.01-2.08 Å terminal, 2.16/2.19 Å "
          "to the bridging S1, P-S1-P 109°, every Li with 4-5 S at 2.38-2.80 Å. The "
          "temperature of the diffraction data was not at hand (room temperature assumed). "
          "Verify against Yamane et al. before quoting.",
)

#: All entries, in the order they are documented.
ENTRIES: tuple[LibraryEntry, ...] = (
    LI2S, GAMMA_LI3PS4, BETA_LI3PS4, LGPS, LI6PS5CL, LI6PS5CL_DISORDERED, LLZO, LI3YCL6,
    LI2B12H12, LI7P3S11,
)
