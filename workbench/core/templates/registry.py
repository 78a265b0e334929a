"""The template registry.

Built-in templates register through the same entry-point group a third-party package would use
(``workbench.templates`` in ``pyproject.toml``): each entry point names a callable that receives
:func:`register_template`. The built-ins are also registered directly, so a source checkout that was
never pip-installed still has them.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points

from workbench.core.errors import TemplateError
from workbench.core.templates.base import TemplateSpec

ENTRY_POINT_GROUP = "workbench.templates"
_log = logging.getLogger(__name__)
_registry: dict[str, TemplateSpec] = {}
_loaded = False


def register_template(spec: TemplateSpec, *, replace: bool = False) -> TemplateSpec:
    """Add ``spec`` to the registry; a second spec with the same id is an error unless ``replace``."""
    existing = _registry.get(spec.id)
    if existing is not None and existing is not spec and not replace:
        raise TemplateError(f"A template with id '{spec.id}' is already registered. Received: {spec.title!r}")
    _registry[spec.id] = spec
    return spec


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from workbench.core.templates.builtin import register_builtin_templates

    register_builtin_templates(register_template)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = entry.load()
            if plugin is register_builtin_templates:
                continue
            plugin(register_template)
        except Exception:  # a broken plug-in must not take the app down
            _log.exception("Template plug-in %s failed to load", entry.name)


def list_templates() -> list[TemplateSpec]:
    """All registered templates, in registration order."""
    _ensure_loaded()
    return list(_registry.values())


def get_template(template_id: str) -> TemplateSpec:
    """The template with id ``template_id``; a :class:`TemplateError` lists the known ids otherwise."""
    _ensure_loaded()
    try:
        return _registry[template_id]
    except KeyError:
        raise TemplateError(
            f"Unknown template; expected one of {', '.join(_registry)}. Received: {template_id!r}"
        ) from None
