"""The shipped models' recipes, as one-click presets: template, hyperparameters and augmentation.

A recipe is read from a shipped model's sidecar (``resources/models/*.json``): the template it was
trained with, the hyperparameters that differ from that template's defaults, and its augmentation —
what ``make models-…`` passed to ``workbench train``, recorded by the run itself, so a preset can
never drift from the model it reproduces. Plain data; no Keras, no Qt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.templates.registry import get_template


@dataclass(frozen=True)
class Recipe:
    """A preset: ``template`` with ``hparams`` (only those that differ from its defaults) and
    ``augmentation`` (its modality's options as a dict, ``modality`` included)."""

    name: str
    title: str
    template: str
    modality: str
    hparams: dict[str, Any] = field(default_factory=dict)
    augmentation: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    #: The seeds of the runs the shipped model joins (``workbench ensemble``); empty for one run.
    ensemble_seeds: tuple[int | None, ...] = ()

    def augmentation_spec(self):
        """The augmentation as its modality's spec."""
        from workbench.core.augmentation import augmentation_from_dict

        return augmentation_from_dict(self.augmentation, self.modality)

    def describe(self) -> str:
        """``audio_cnn: sample_rate 8000, duration 0.8, …; augmentation time_shift 0.1, …``."""
        hp = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.hparams.items())
        spec = self.augmentation_spec()
        defaults = type(spec)().to_dict()
        on = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in spec.to_dict().items()
                       if k != "modality" and v != defaults.get(k))
        joined = (f"; the shipped model joins {len(self.ensemble_seeds)} runs of it, seeds "
                  f"{', '.join(str(seed) for seed in self.ensemble_seeds)}" if self.ensemble_seeds else "")
        return f"{self.template}: {hp or 'its defaults'}; augmentation {on or 'none'}{joined}"


def recipe_from_sidecar(path: str | Path) -> Recipe:
    """The recipe a model's sidecar records; a WorkbenchError says what is missing."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkbenchError(f"Expected a readable model sidecar (.json). Received: {path} ({exc})") from None
    template = data.get("template")
    if not template:
        raise WorkbenchError(f"Expected a sidecar naming its template. Received: {path} without one")
    spec = get_template(template)
    defaults = spec.default_hparams()
    recorded = {k: v for k, v in spec.recorded_hparams(data.get("hyperparameters")).items() if k in defaults}
    resolved = spec.resolve_hparams(recorded)  # checks every value against the template's ranges
    hparams = {k: v for k, v in resolved.items() if k in recorded and v != defaults[k]}
    augmentation = dict(data.get("augmentation") or {})
    augmentation.setdefault("modality", spec.modality)
    name = path.stem
    members = (data.get("ensemble") or {}).get("members") or []
    return Recipe(name=name, title=f"{name.replace('_', ' ').capitalize()} recipe", template=spec.id,
                  modality=spec.modality, hparams=hparams, augmentation=augmentation, source=str(path),
                  ensemble_seeds=tuple(m.get("seed") for m in members if isinstance(m, dict)))


def shipped_recipes() -> list[Recipe]:
    """The recipe of every shipped model whose sidecar names a known template."""
    from workbench.core.resources import shipped_models

    recipes = []
    try:
        models = shipped_models()
    except FileNotFoundError:
        return []
    for model in models:
        try:
            recipes.append(recipe_from_sidecar(model.with_suffix(".json")))
        except WorkbenchError:
            continue  # a sidecar of a plug-in template that is not installed
    return recipes
