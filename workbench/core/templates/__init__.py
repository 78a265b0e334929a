"""Model templates: specs, the registry and the built-in families."""

from workbench.core.templates.base import HyperParameter, TemplateSpec
from workbench.core.templates.registry import get_template, list_templates, register_template

__all__ = ["HyperParameter", "TemplateSpec", "get_template", "list_templates", "register_template"]
