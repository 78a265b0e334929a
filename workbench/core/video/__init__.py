"""Video: the third modality. Today scan can index and verify video folders; decoding clips for
training and prediction arrives with the video issue (clips of frames, the camera source)."""
