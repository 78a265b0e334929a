"""Demo-only code, outside the shipped ``workbench`` package: every panel and widget alone with fake
or demo data, for quick UI work and screenshots.

    python -m demos.training_panel [--screenshot out.png]      # a replayed run, no TensorFlow
    python -m demos.data_panel ../shared/data/mnist/folders_small
    python -m demos.widgets training_curves_widget             # any widget module's demo

The fake training controller lives here too (``demos.fake_training_controller``); tests use it.
"""
