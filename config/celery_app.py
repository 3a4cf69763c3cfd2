"""The Celery app. Queues are declared here, in one place.

- ``training``: TensorFlow training runs. Its worker runs with ``--pool=solo`` (TensorFlow is not
  fork-safe) and ``--concurrency=1`` so one run trains at a time.
- ``default``: everything short (celery beat's scheduled retrain, which only queues a run).
"""
import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

TRAINING_QUEUE = "training"
DEFAULT_QUEUE = "default"

app = Celery("bookvec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue(DEFAULT_QUEUE), Queue(TRAINING_QUEUE))
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_routes = {"recommender.tasks.train_embeddings_task": {"queue": TRAINING_QUEUE}}
app.autodiscover_tasks()
