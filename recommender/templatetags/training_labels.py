"""Template helpers of the staff pages: a training metric's name in words (``recommender.metric_labels``)."""
from django import template

from recommender.metric_labels import metric_label

register = template.Library()
register.filter("metric_label", metric_label)
