"""Background work for the GUI: the training controller/worker and a generic task runner."""
