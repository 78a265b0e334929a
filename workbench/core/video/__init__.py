"""Video: folders of clips decoded with OpenCV into windows of a fixed number of frames.

- :mod:`.io` — ``read_video(path) -> (frames RGB uint8 (T, H, W, 3), fps)``, scan's ``check_video``.
- :mod:`.clips` — ``prepare_frames(frames, input_shape, preprocessing)``: the one preparation of a
  run of frames (a window of a file, the camera's last frames) for a model; windows along a clip.
- :mod:`.cache` — decoded clips kept on disk, keyed by file content and decode settings.
- :mod:`.dataset` — the tf.data pipeline (one window per clip per epoch, augmented when training).
- :mod:`.augment` — ``VideoAugmentationSpec`` and ``augment_clips`` (the training code, for previews).
- :mod:`.files` — ``predict_video_file(predictor, path, top_k)``: a file read window by window.
- :mod:`.groups` — ``suggested_group_regex(report)``: the group split a dataset's names call for.
- :mod:`.modality` — ``VIDEO``, what the engine's registry hands out for "video".

Nothing here imports TensorFlow or OpenCV until a function runs.
"""
