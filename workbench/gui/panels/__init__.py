"""The workbench's tab panels: data, model, augmentation, training, results, test (and the runs dock).

Each panel is a QWidget taking the shared :class:`~workbench.gui.state.AppState` (and, where it needs
one, a worker controller); panels never reach into each other. Sub-packages: ``augmentation`` (the
Augmentation tab's per-modality pages) and ``live`` (the Test tab's inputs). Background jobs of a
panel live beside it in a Qt-free ``*_jobs`` module. Every panel runs alone with fake or demo data
from the ``demos`` package, e.g. ``python -m demos.training_panel [--screenshot out.png]``, and has a
``shutdown()`` that ends its background threads (the main window calls it on close).
"""
