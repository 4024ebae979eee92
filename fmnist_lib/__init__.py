"""fmnist_lib: a reproducible Fashion-MNIST CNN benchmark on Keras 3.

Modules: data (verified loading, splits), augment, models (the registry),
config (the one validated settings object), training, runs (run directories),
metrics, predict, plots, summaries (what the training notebooks show),
notebooks (batch runner), cli.
"""

from . import quiet

# Before any module of the package, or the notebook using it, loads TensorFlow.
quiet.install()

__version__ = "0.1.0"
