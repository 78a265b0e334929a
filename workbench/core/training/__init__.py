"""Training: ``train(config, listeners, cancel) -> TrainResult``; ``resume(run_dir, …)`` continues an
unfinished run; ``run_status(path)`` tells a live run from an interrupted one."""

from workbench.core.training.config import Phase
from workbench.core.training.events import CancelToken, TrainingListeners
from workbench.core.training.resume import resume
from workbench.core.training.runfolder import RunFolderError, RunStatus, interrupted_note, run_status
from workbench.core.training.trainer import TrainConfig, TrainResult, train

__all__ = ["CancelToken", "TrainingListeners", "TrainConfig", "TrainResult", "Phase", "RunFolderError", "RunStatus",
           "interrupted_note", "resume", "run_status", "train"]
