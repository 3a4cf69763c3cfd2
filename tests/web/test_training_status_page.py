"""The staff training status page: its metrics in reading order, as numbers of their kind."""
import re

import pytest
from django.urls import reverse

from recommender.models import EmbeddingVersion
from recommender.templatetags.training import metric
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


def test_training_status_shows_counts_as_whole_numbers_and_scores_to_three_places(client, staff_user):
    version = publish_planted_version(planted_catalogue())
    EmbeddingVersion.objects.filter(pk=version.pk).update(metrics={
        "wikipedia:same_author_precision@5": 0.6, "shelf_users": 250, "data": {"books": 40}, "heldout_auc": 0.91})
    client.force_login(staff_user)
    html = client.get(reverse("training_status")).content.decode()
    metrics = re.search(r'<dl class="metrics">(.*?)</dl>', html).group(1)
    shown = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", metrics)
    assert shown == [("Held-out link AUC", "0.910"), ("Held-out readers", "250"),
                     ("Same-author precision@5, Wikipedia books", "0.600")], "named in words, in reading order"


@pytest.mark.parametrize(("value", "shown"), [(250, "250"), (12345, "12,345"), (0.91, "0.910"),
                                              (1234.56789, "1,234.568"), ("n/a", "n/a")])
def test_a_metric_reads_as_its_kind_of_number(value, shown):
    assert metric(value) == shown
