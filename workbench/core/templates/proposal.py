"""Settings proposed from a dataset scan, for a template — shown as a proposal the user accepts.

``propose_settings(scan, template, hparams)`` asks the data's modality (its optional
``propose_hparams`` and ``describe_files``: sound proposes a sample rate, a clip length holding 99% of
the clips and spectrogram frames; images an input size where the template has one) and returns the
values that differ from the current choice, each with its reason, and what the scan found (sample
rates, durations, image sizes) in plain lines. The GUI's Model panel and the CLI call the same
function; no Keras, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.templates.registry import get_template


@dataclass(frozen=True)
class SettingsProposal:
    """What the data suggests for ``template``: ``changes`` (hyperparameter → proposed value, only
    those that differ from the current choice), why (``reasons``), and what the scan found (``facts``)."""

    template: str
    changes: dict[str, Any] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    facts: list[str] = field(default_factory=list)
    current: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        """One line per change: ``"sample_rate 16000 → 8000: the clips are recorded at 8,000 Hz…"``."""
        return [f"{name} {_show(self.current.get(name))} → {_show(value)}"
                + (f": {self.reasons[name]}" if self.reasons.get(name) else "")
                for name, value in self.changes.items()]


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _infos(scan) -> list[dict[str, Any]]:
    info = getattr(scan, "file_info", None) or {}
    return [info[f] for f in getattr(scan, "files", []) if f in info]


def describe_files(scan) -> list[str]:
    """What the scan found about the files, in plain lines (sound: sample rates and durations; images:
    sizes and colour; video: durations, frame rates and sizes); [] when the modality says nothing."""
    if getattr(scan, "modality", None) is None:
        return []
    from workbench.core.modality import get_modality

    try:
        describe = getattr(get_modality(scan.modality), "describe_files", None)
    except WorkbenchError:
        return []
    stats = getattr(scan, "file_statistics", None)
    lines = list(describe(stats, _infos(scan))) if describe is not None else []
    shape = getattr(scan, "sample_shape", None)
    if not lines and shape:  # an .npz: one shape for all
        lines.append(f"{scan.num_samples:,} arrays of {'×'.join(str(d) for d in shape)}.")
    return lines


def propose_settings(scan, template: Any, hparams: dict[str, Any] | None = None) -> SettingsProposal:
    """The settings ``scan`` suggests for ``template`` (an id or a spec) given the current ``hparams``
    (the user's overrides); an empty proposal when the data is of another modality or says nothing."""
    spec = get_template(template) if isinstance(template, str) else template
    facts = describe_files(scan)
    if getattr(scan, "modality", None) != spec.modality:
        return SettingsProposal(spec.id, facts=facts)
    from workbench.core.modality import get_modality

    current = spec.resolve_hparams(hparams)
    propose = getattr(get_modality(scan.modality), "propose_hparams", None)
    if propose is None:
        return SettingsProposal(spec.id, facts=facts, current=current)
    values, reasons = propose(_infos(scan), spec, current)
    changes = {k: v for k, v in values.items() if current.get(k) != v}
    try:  # the proposal must be a valid choice for the template (its ranges, its input shape)
        spec.input_shape_for(spec.resolve_hparams({**(hparams or {}), **changes}))
    except WorkbenchError:
        changes = {}
    return SettingsProposal(spec.id, changes, {k: reasons.get(k, "") for k in changes}, facts, current)
