"""Reusable widgets that take plain numpy arrays, dicts and lists.

Each module holds one widget and runs alone with demo data, e.g.
``python -m workbench.gui.widgets.training_curves_widget [--screenshot out.png]``.
Widgets never import TensorFlow or the training internals.
"""
