"""Which templates fit a dataset, and why the others do not — said before Start, not after it.

:func:`template_fit` is the one check the GUI's Model and Training panels ask (the list orders the
templates that fit first; Start stays disabled with the reason until they fit) and the CLI can ask
too. It checks what :func:`workbench.core.training.config.prepare` refuses at the start of a run: a
template that cannot train yet, and data of another modality than the template's. Plain data in and
out; no Keras, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.templates.registry import get_template, list_templates


@dataclass(frozen=True)
class TemplateFit:
    """Whether ``template`` can train on the data; ``reason`` says why not ("" when it fits)."""

    template: str
    fits: bool
    reason: str = ""


def _noun(modality: str) -> str:
    from workbench.core.modality import get_modality

    try:
        return get_modality(modality).noun
    except WorkbenchError:
        return modality


def _where(scan: Any) -> str:
    path = str(getattr(scan, "path", "") or "")
    return Path(path).name or path if path else "the dataset"


def template_fit(template: Any, scan: Any | None) -> TemplateFit:
    """Whether ``template`` (an id or a :class:`TemplateSpec`) can train on ``scan`` (a ScanReport).

    Without a scan only the template itself is checked (the data is unknown until it is scanned).
    """
    try:
        spec = get_template(template) if isinstance(template, str) else template
    except WorkbenchError as exc:
        return TemplateFit(str(template), False, str(exc))
    if spec.train_unavailable:
        return TemplateFit(spec.id, False, f"Template '{spec.id}' cannot train yet: {spec.train_unavailable}.")
    if scan is None:
        return TemplateFit(spec.id, True)
    modality = getattr(scan, "modality", None)
    if modality and modality != spec.modality:
        count = getattr(scan, "num_samples", None)
        what = f"{count:,} {_noun(modality)} files" if isinstance(count, int) else f"{_noun(modality)} files"
        return TemplateFit(spec.id, False, f"Template '{spec.id}' expects {_noun(spec.modality)} data. "
                                           f"Received: {what} in {_where(scan)}")
    return TemplateFit(spec.id, True)


def rank_templates(scan: Any | None, templates: list | None = None) -> list[TemplateFit]:
    """Every template's fit for ``scan``: those that fit first, each group in registry order."""
    fits = [template_fit(spec, scan) for spec in (templates if templates is not None else list_templates())]
    return [f for f in fits if f.fits] + [f for f in fits if not f.fits]


def first_fitting_template(scan: Any | None) -> str | None:
    """The first registered template that fits ``scan`` (None when none does)."""
    return next((f.template for f in rank_templates(scan) if f.fits), None)
