"""The Augmentation tab: one page per modality that has augmentation options (images, sound, video), stacked
so the tab shows the page that applies (:class:`~.augmentation_stack.AugmentationStack`)."""
