"""Machine learning for Numberfigure: the mnist_deep network, its data, training and serving.

`runtime` is the serving path and imports only numpy and LiteRT. `mnist` (IDX files), `accuracy` and
`handwriting` (the non-MNIST evaluation set) need no TensorFlow either. The rest serve `manage.py
train`, one job each: `augment`, `pipeline` (tf.data), `fitting` (with `progress`), `export` (LiteRT
conversion), `evaluation`, `plots`, `card`, `install` (atomic), tied together by `training`.
`pieces` and `verifier` make the cut verifier that segmentation weighs touching digits' cuts with
(`runtime.get_verifier` serves it), `strings` the string reader that reads a run of touching digits
whole (`runtime.get_string_reader`).

`TrainingError` is defined here, the one error the training side raises for a person to read.
"""


class TrainingError(Exception):
    """A model file, model folder or conversion that cannot be used (the `train` command shows it)."""
