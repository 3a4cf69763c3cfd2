"""The staff training status page: its parameters and metrics read as numbers of their kind."""
import pytest
from django.urls import reverse

from books.templatetags.bookvec import metric
from recommender.models import EmbeddingVersion
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


def test_training_status_shows_counts_as_whole_numbers_and_scores_to_three_places(client, staff_user):
    version = publish_planted_version(planted_catalogue())
    EmbeddingVersion.objects.filter(pk=version.pk).update(metrics={"shelf_users": 250, "heldout_auc": 0.91})
    client.force_login(staff_user)
    html = client.get(reverse("training_status")).content.decode()
    assert "<dt>shelf_users</dt><dd>250</dd>" in html
    assert "<dt>heldout_auc</dt><dd>0.910</dd>" in html


@pytest.mark.parametrize(("value", "shown"), [(250, "250"), (12345, "12,345"), (0.91, "0.910"),
                                              (1234.56789, "1,234.568"), ("n/a", "n/a")])
def test_a_metric_reads_as_its_kind_of_number(value, shown):
    assert metric(value) == shown
