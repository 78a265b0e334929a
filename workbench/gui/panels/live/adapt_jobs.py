"""Background job of "Adapt to my examples": :func:`~workbench.core.adapt.adapt_model` on a TaskRunner thread.

No Qt here: the job returns the plain result dict (:meth:`AdaptResult.to_dict`); progress and cancel
come from the runner. The model is loaded by the job itself, never from the live tab's
:class:`PredictorCache`: adapting rewrites the head of the model it loaded, which must not be the one
the tab is predicting with.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any, Callable


def adapt_job(model_path: str, examples_dir: str, out_path: str) -> Callable[..., dict[str, Any]]:
    """A TaskRunner job adapting ``model_path`` to the examples in ``examples_dir``, written to ``out_path``."""
    return partial(_adapt, str(model_path), str(examples_dir), str(out_path))


def _adapt(model_path: str, examples_dir: str, out_path: str, *, progress, cancel) -> dict[str, Any]:
    from workbench.core.adapt import adapt_model

    command = f"Adapt to my examples (GUI): {Path(model_path).name} on {examples_dir}"
    return adapt_model(model_path, examples_dir, out_path, progress=progress, cancel=cancel, command=command).to_dict()
