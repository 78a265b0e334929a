"""Training: ``train(config, listeners, cancel) -> TrainResult``."""

from workbench.core.training.config import Phase
from workbench.core.training.events import CancelToken, TrainingListeners
from workbench.core.training.trainer import TrainConfig, TrainResult, train

__all__ = ["CancelToken", "TrainingListeners", "TrainConfig", "TrainResult", "Phase", "train"]
