"""Images: decoding and resizing, MNIST-style digit preparation, augmentation, tf.data and layers.

The numpy parts (:mod:`io`, :mod:`digits`) import no TensorFlow; the Keras layers (:mod:`layers`) and
the pipeline (:mod:`dataset`) are imported where they are used. This package never imports another
modality's package.
"""
