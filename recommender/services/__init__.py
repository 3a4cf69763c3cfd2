"""Writes of the embeddings: training runs requested, cancelled and failed (``training_runs``), a run executed by
the worker (``training_pipeline``), embedding versions (``versions``), inferred vectors for new books
(``inference``) and readers' dismissals (``dismissals``). Import from the modules themselves: only the worker's
pipeline loads TensorFlow.
"""
