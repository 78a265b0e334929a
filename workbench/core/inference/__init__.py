"""Inference: :class:`Predictor` loads a model + sidecar and predicts like training did."""

from workbench.core.inference.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor"]
