"""Writes of the embeddings: training runs (``training_runs``), the pairs they read (``training_data``),
embedding versions (``versions``), inferred vectors for new books (``inference``), the 2-D map
(``layout``) and quality metrics (``quality``). Import from the modules themselves: only the worker's
modules load TensorFlow.
"""
