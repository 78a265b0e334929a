"""Loaded models, shared by the inference workers (loading a .keras file takes ~0.5 s)."""

from __future__ import annotations

import threading
from pathlib import Path


class PredictorCache:
    """Thread-safe cache of :class:`~workbench.core.inference.Predictor` by path and file time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, float], object] = {}

    def get(self, model_path: str):
        from workbench.core.inference import Predictor

        key = (str(Path(model_path).resolve()), Path(model_path).stat().st_mtime)
        with self._lock:
            predictor = self._cache.get(key)
        if predictor is None:
            predictor = Predictor.load(model_path)
            with self._lock:
                self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]}
                self._cache[key] = predictor
        return predictor
