"""Errors the user can act on.

Every error a person can cause (a missing folder, an unknown template, a file that is not a model)
is a :class:`WorkbenchError`. The CLI prints its message on one line and exits with status 2; the GUI
shows it in the panel. Messages say what was expected and end with "Received: ...".
"""


class WorkbenchError(Exception):
    """An error caused by input the user can fix."""


class DatasetError(WorkbenchError):
    """The dataset path or its contents cannot be used."""


class TemplateError(WorkbenchError):
    """An unknown template or an invalid hyperparameter."""


class ModelFileError(WorkbenchError):
    """A file that is not a loadable workbench model."""


class ExportError(WorkbenchError):
    """An export format or option that cannot be produced."""
