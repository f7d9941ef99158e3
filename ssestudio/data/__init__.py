"""Datasets for training ML force fields: structures, configurations, labels, storage.

Conventions shared by every module of this package
--------------------------------------------------
* A configuration is an :class:`ase.Atoms`. Its labels, when it has any, are attached as an
  :class:`ase.calculators.singlepoint.SinglePointCalculator` with ASE's units and signs:
  ``energy`` (eV), ``forces`` (eV/Å, shape (N, 3)), ``stress`` (eV/Å^3, Voigt order
  xx, yy, zz, yz, xz, xy, ASE sign: ``stress = (1/V) dE/d(strain)``, so a compressed cell
  has negative stress and the pressure is ``-trace/3``).
* Where a configuration came from is a JSON-ready dict in ``atoms.info["provenance"]``:
  ``source`` (file path or ``"library:<name>"``), ``generators`` (list of
  ``{"name", "params", "seed"}``, the chain applied in order), ``level`` (``"DFT"``, a
  teacher name such as ``"sevenn:7net-0"``, or absent when unlabelled), ``temperature_K``
  (when sampled at a temperature), ``frame`` (index in the source file) and ``group`` (the
  key that ``split_by="group"`` keeps together; default the source).
"""
