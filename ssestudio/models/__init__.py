"""Machine-learning force fields: the built-in moment-tensor network, optional MACE,
ensembles, and their ASE calculators.

Example::

    from ssestudio.models import build_model, load_calculator
    model = build_model("default", ["Li", "P", "S"])     # untrained; see ssestudio.training
    atoms.calc = load_calculator("runs/lps/best.pt")        # any saved model or ensemble
    atoms.get_forces()
"""

from ssestudio.models.base import (ForceFieldModel, Preset, build_model, get_preset,
                                   model_family, presets, register_family, register_preset)
from ssestudio.models.graph import GraphBatch, atoms_to_batch, collate, structure_graph
from ssestudio.models.serialization import (load_model, read_metadata, save_ensemble,
                                            save_model)

__all__ = [
    "ForceFieldModel", "GraphBatch", "Preset", "atoms_to_batch", "build_model", "collate",
    "get_preset", "load_model", "model_family", "presets", "read_metadata",
    "register_family", "register_preset", "save_ensemble", "save_model", "structure_graph",
]
