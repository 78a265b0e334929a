"""Reusable widgets that take plain numpy arrays, dicts and lists.

Each module holds one widget; each widget runs alone with demo data, e.g.
``python -m demos.widgets training_curves_widget [--screenshot out.png]``.
Widgets never import TensorFlow, the training internals, the panels or the workers.
"""
