"""Training force fields on a dataset version: one model, an ensemble, or distributed.

Example::

    from ssestudio.training import TrainConfig, load_training_data, train
    from ssestudio.workspace import Workspace

    config = TrainConfig(dataset="li3ps4@2", model="default", max_epochs=100)
    with Workspace.open("my-workspace") as ws:
        data = load_training_data(config, workspace=ws)   # neighbour lists, once
    result = train(config, data, "runs/li3ps4")            # checkpoint.pt, best.pt, ...
    print(result.stop_reason, result.test_metrics.force_rmse_eV_A)

    # later, after a kill: train(config, data, "runs/li3ps4", resume=True)
    # several GPUs/processes: torchrun --nproc_per_node 4 -m ssestudio.training.ddp \\
    #     config.json runs/li3ps4 --workspace my-workspace

The trained model loads with :func:`ssestudio.models.load_model` or as an ASE calculator
with :func:`ssestudio.models.calculator.load_calculator` (``runs/li3ps4/best.pt``).
"""

from ssestudio.training.config import TrainConfig
from ssestudio.training.data import (TrainingData, batch_indices, bootstrap_indices,
                                     energy_scale, graphs_from_atoms, load_training_data,
                                     reference_energies, training_data_from_atoms)
from ssestudio.training.ensemble import EnsembleResult, train, train_ensemble
from ssestudio.training.metrics import (ErrorSums, Metrics, Predictions, evaluate,
                                        parity_data, predict)
from ssestudio.training.trainer import TrainResult, Trainer

__all__ = [
    "EnsembleResult", "ErrorSums", "Metrics", "Predictions", "TrainConfig", "TrainResult",
    "Trainer", "TrainingData", "batch_indices", "bootstrap_indices", "energy_scale",
    "evaluate", "graphs_from_atoms", "load_training_data", "parity_data", "predict",
    "reference_energies", "train", "train_ensemble", "training_data_from_atoms",
]
