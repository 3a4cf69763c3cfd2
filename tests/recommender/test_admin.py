"""Staff controls in the admin: retrain with parameters, follow a run, cancel it, activate and roll back versions."""
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from recommender.models import EmbeddingVersion, TrainingRun
from recommender.selectors import active_version
from recommender.training.params import TrainingParams
from tests.recommender.planted import planted_catalogue, publish_planted_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_the_run_list_has_a_retrain_button_leading_to_a_form_with_the_defaults(staff_client):
    changelist = staff_client.get(reverse("admin:recommender_trainingrun_changelist"))
    retrain_url = reverse("admin:recommender_trainingrun_retrain")
    assert changelist.status_code == 200 and retrain_url in changelist.content.decode()

    form = staff_client.get(retrain_url)

    assert form.status_code == 200
    assert form.context["form"]["epochs"].value() == TrainingParams().epochs
    assert form.context["form"]["embedding_dim"].value() == TrainingParams().embedding_dim


def test_retrain_now_requests_a_run_with_the_chosen_parameters(staff_client, staff_user,
                                                               django_capture_on_commit_callbacks):
    data = {"epochs": 3, "embedding_dim": 12, "variant": "regression", "shelf_weight": 0.5, "seed": 7}

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(reverse("admin:recommender_trainingrun_retrain"), data)

    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:recommender_trainingrun_change",
                                                                   args=[run.pk])
    assert run.trigger == "admin" and run.requested_by == staff_user and run.status == "queued"
    assert {k: run.params[k] for k in data} == data and run.params["batch_size"] == TrainingParams().batch_size
    assert len(callbacks) == 1 and run.celery_task_id == TrainingRun.objects.get().celery_task_id != ""


def test_retrain_while_a_run_is_open_says_so(staff_client):
    open_run = TrainingRun.objects.create(trigger="api", status="running")
    data = {"epochs": 3, "embedding_dim": 12, "variant": "classification", "shelf_weight": 1, "seed": 1}

    response = staff_client.post(reverse("admin:recommender_trainingrun_retrain"), data, follow=True)

    assert f"Run {open_run.pk} is already running" in response.content.decode()
    assert TrainingRun.objects.count() == 1


def test_retrain_is_for_staff_only(client, user):
    client.force_login(user)
    response = client.post(reverse("admin:recommender_trainingrun_retrain"), {"epochs": 3})
    assert response.status_code == 302 and not TrainingRun.objects.exists()


def test_a_run_page_draws_the_loss_curve_and_compares_metrics_with_the_live_version(staff_client):
    run = TrainingRun.objects.create(
        trigger="admin", status="succeeded", epochs=3, epoch=3, steps_per_epoch=5, step=5,
        loss_history=[0.7, 0.5, 0.4],
        metrics={"shelf_recall@20": 0.31, "heldout_auc": 0.9, "live": {"shelf_recall@20": 0.25},
                 "quality_gate": {"passed": True, "activated": True, "reasons": []}},
        timings={"publish": 2.5, "train": 25.0, "pairs_per_second": 827354.7, "read_pairs": 6.6},
    )

    page = staff_client.get(reverse("admin:recommender_trainingrun_change", args=[run.pk])).content.decode()
    assert "read pairs 6.6, train 25.0, publish 2.5 (827,355 training pairs a second)" in page, "stages in order"

    assert '<svg class="loss-curve"' in page and "<polyline" in page
    assert "<th>live when it finished</th>" in page and '<td class="figure">0.310</td><td class="figure">0.250</td>' in page
    assert "readers held out of training" in page  # the table says what its figures measure
    list_page = staff_client.get(reverse("admin:recommender_trainingrun_changelist")).content.decode()
    assert "epoch 3/3" in list_page


def test_the_cancel_action_cancels_a_queued_run(staff_client):
    run = TrainingRun.objects.create(trigger="admin")

    staff_client.post(reverse("admin:recommender_trainingrun_changelist"),
                      {"action": "cancel_runs", "_selected_action": [run.pk]})

    run.refresh_from_db()
    assert run.status == "cancelled"


def test_versions_can_be_activated_and_rolled_back_from_the_admin(staff_client):
    catalogue = planted_catalogue(groups=2, books_per_group=8)
    first = publish_planted_version(catalogue, seed=1)
    second = publish_planted_version(catalogue, seed=2, activate=False)
    EmbeddingVersion.objects.filter(pk=first.pk).update(metrics={"same_author_precision@5": 0.5})
    EmbeddingVersion.objects.filter(pk=second.pk).update(metrics={"same_author_precision@5": 0.625})
    url = reverse("admin:recommender_embeddingversion_changelist")

    listing = staff_client.get(url).content.decode()
    asked = staff_client.post(url, {"action": "activate", "_selected_action": [second.pk]}).content.decode()
    assert active_version().pk == first.pk, "nothing changes before it is confirmed"
    assert f"Make version {second.pk} live?" in asked and f"instead of version {first.pk}, live now" in asked
    assert f"<th>live now (version {first.pk})</th>" in asked, "its figures beside the live version's"
    assert '<th>Same-author precision@5</th><td class="figure">0.625</td><td class="figure">0.500</td>' in asked
    staff_client.post(url, {"action": "activate", "_selected_action": [second.pk], "confirmed": "yes"})
    assert active_version().pk == second.pk
    response = staff_client.post(reverse("admin:recommender_embeddingversion_roll_back"), follow=True)

    assert active_version().pk == first.pk
    assert f"Rolled back: version {first.pk} is live." in response.content.decode()
    assert '<td class="field-state">live</td>' in listing and "Same-author precision@5" in listing
    assert EmbeddingVersion.objects.filter(is_active=True).count() == 1


def test_the_version_list_shows_the_quality_gate_and_activating_a_held_back_version_warns(staff_client):
    catalogue = planted_catalogue(groups=2, books_per_group=8)
    publish_planted_version(catalogue, seed=1)
    held_back = publish_planted_version(catalogue, seed=2, activate=False)
    reasons = ["heldout_auc 0.496 is clearly below the live version's 0.858"]
    run = TrainingRun.objects.create(trigger="api", status="succeeded",
                                     metrics={"quality_gate": {"passed": False, "activated": False, "reasons": reasons}})
    EmbeddingVersion.objects.filter(pk=held_back.pk).update(training_run=run)
    url = reverse("admin:recommender_embeddingversion_changelist")

    assert f"held back: {reasons[0]}".replace("'", "&#x27;") in staff_client.get(url).content.decode()
    asked = staff_client.post(url, {"action": "activate", "_selected_action": [held_back.pk]}).content.decode()
    assert f"The quality gate held version {held_back.pk} back" in asked
    response = staff_client.post(url, {"action": "activate", "_selected_action": [held_back.pk], "confirmed": "yes"},
                                 follow=True)
    assert active_version().pk == held_back.pk
    assert "though the quality gate held it back" in response.content.decode()


def test_activating_a_version_pruned_since_the_list_was_shown_says_so(staff_client):
    url = reverse("admin:recommender_embeddingversion_changelist")
    publish_planted_version(planted_catalogue(groups=2, books_per_group=8), seed=1)
    response = staff_client.post(url, {"action": "activate", "_selected_action": [999999]}, follow=True)
    assert "it was pruned after the list was shown" in response.content.decode()


def test_roll_back_is_a_button_of_the_version_list_that_needs_no_selection(staff_client):
    catalogue = planted_catalogue(groups=2, books_per_group=8)
    first = publish_planted_version(catalogue, seed=1)
    publish_planted_version(catalogue, seed=2)
    roll_back_url = reverse("admin:recommender_embeddingversion_roll_back")

    listing = staff_client.get(reverse("admin:recommender_embeddingversion_changelist")).content.decode()
    asked = staff_client.get(roll_back_url).content.decode()
    assert f"Roll back to version {first.pk}?" in asked and 'data-testid="confirm-live"' in asked
    assert active_version().pk != first.pk, "asking changes nothing"
    response = staff_client.post(roll_back_url)

    assert f'<a href="{roll_back_url}">Roll back to the previous version</a>' in listing
    assert 'value="roll_back"' not in listing  # no longer an action that asks for ticked rows
    assert response.status_code == 302 and response.url == reverse("admin:recommender_embeddingversion_changelist")
    assert active_version().pk == first.pk


def test_roll_back_with_nothing_before_says_so(staff_client):
    live = publish_planted_version(planted_catalogue(groups=2, books_per_group=8), seed=1)

    response = staff_client.post(reverse("admin:recommender_embeddingversion_roll_back"), follow=True)

    assert "no earlier ready version" in response.content.decode()
    assert active_version().pk == live.pk


def test_roll_back_is_a_csrf_protected_post_for_staff_who_may_change_versions(staff_user, user, django_user_model):
    catalogue = planted_catalogue(groups=2, books_per_group=8)
    publish_planted_version(catalogue, seed=1)
    live = publish_planted_version(catalogue, seed=2)
    url = reverse("admin:recommender_embeddingversion_roll_back")
    staff_user.user_permissions.add(Permission.objects.get(codename="view_embeddingversion"))
    viewer = Client()
    viewer.force_login(staff_user)
    reader = Client()
    reader.force_login(user)
    admin = django_user_model.objects.create_superuser(username="admin", password="a-long-passphrase")
    without_token = Client(enforce_csrf_checks=True)
    without_token.force_login(admin)

    listing = viewer.get(reverse("admin:recommender_embeddingversion_changelist"))
    assert listing.status_code == 200 and "Roll back" not in listing.content.decode()
    assert viewer.post(url).status_code == 403
    assert reader.post(url).status_code == 302  # to the admin's sign-in page
    assert without_token.post(url).status_code == 403
    assert viewer.get(url).status_code == 403
    assert without_token.get(url).status_code == 200, "the page that asks first"
    assert active_version().pk == live.pk


def test_a_run_whose_version_is_live_shows_the_live_figures_as_its_own(staff_client):
    run = TrainingRun.objects.create(trigger="admin", status="succeeded",
                                     metrics={"shelf_recall@20": 0.31, "live_version_id": None, "live": None})
    EmbeddingVersion.objects.create(training_run=run, dimensions=8, is_ready=True, is_active=True,
                                    metrics={"shelf_recall@20": 0.31})

    page = staff_client.get(reverse("admin:recommender_trainingrun_change", args=[run.pk])).content.decode()

    assert "<th>live version (this run&#x27;s)</th>" in page
    assert '<td class="figure">0.310</td><td class="figure">0.310</td>' in page


def test_read_only_run_and_version_pages_offer_no_save(staff_client):
    version = publish_planted_version(planted_catalogue(groups=2, books_per_group=8), seed=1)
    run = TrainingRun.objects.create(trigger="admin", status="succeeded")
    for url in (reverse("admin:recommender_trainingrun_change", args=[run.pk]),
                reverse("admin:recommender_embeddingversion_change", args=[version.pk])):
        page = staff_client.get(url).content.decode()
        assert 'name="_save"' not in page and 'name="_continue"' not in page and 'name="_addanother"' not in page


def test_a_runs_parameters_are_a_table_with_the_changed_ones_marked(staff_client):
    params = {**TrainingParams().to_dict(), "epochs": 7, "seed": 99}
    run = TrainingRun.objects.create(trigger="admin", status="succeeded", params=params)
    page = staff_client.get(reverse("admin:recommender_trainingrun_change", args=[run.pk])).content.decode()
    table = page.split('<table class="params">')[1].split("</table>")[0]
    changed = re.findall(r'<tr class="changed"><th>([^<]+)</th><td>([^<]+)</td><td>([^<]+)</td></tr>', table)
    defaults = TrainingParams()
    assert changed == [("epochs", "7", f"default {defaults.epochs}"), ("seed", "99", f"default {defaults.seed}")]
    assert f"<tr><th>embedding dim</th><td>{TrainingParams().embedding_dim}</td><td></td></tr>" in table
    assert "{&quot;" not in page, "no raw JSON"
