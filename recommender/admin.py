"""Staff controls of the embeddings: training runs (retrain, follow, cancel) and embedding versions
(activate, roll back). Every action calls a service; nothing here writes a model directly."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from recommender.templatetags import training
from recommender.models import EmbeddingVersion, TrainingRun
from recommender.selectors import active_version, training_run_progress
from recommender.services.quality import metrics_in_order
from recommender.services.training_runs import RUN_STAGES, TrainingRunError, training_run_cancel, training_run_request
from recommender.services.versions import NoPreviousVersion, VersionNotReady, version_activate, version_rollback

SUMMARY_METRICS = ("shelf_recall@20", "same_author_precision@5", "heldout_auc")

METRICS_CAPTION = (
    "shelf_*: Recall@20 / NDCG@20 of the served shelf recommendations for readers held out of training "
    "(shelf_users of them), 80 % of all their shelves shown and 20 % to find; votes_*: the same by neighbour "
    "voting on the book vectors; popularity_*: the most popular books. same_author_precision@k: the share of a "
    "book's k nearest books that have its author (books whose author has 2+). heldout_auc: link prediction on "
    "held-out pairs."
)


class RetrainForm(forms.Form):
    """The knobs staff usually turn; every other parameter keeps its default (recommender/training/params.py)."""

    epochs = forms.IntegerField(min_value=1, max_value=10_000,
                                help_text="At least: a small catalogue runs more, to make min_steps steps (250).")
    embedding_dim = forms.IntegerField(label="Embedding size", min_value=2, max_value=2000)
    variant = forms.ChoiceField(choices=[("classification", "classification (sigmoid, cross-entropy)"),
                                         ("regression", "regression (±1 labels, MSE)")])
    shelf_weight = forms.FloatField(
        min_value=0, max_value=1000,
        help_text="How much a reader's shelf pair counts against a content pair; 0 ignores shelves.")
    seed = forms.IntegerField(min_value=0, max_value=2**32 - 1)

    @classmethod
    def with_defaults(cls, data=None) -> RetrainForm:
        from recommender.training.params import TrainingParams

        defaults = TrainingParams()
        return cls(data, initial={name: getattr(defaults, name) for name in cls.base_fields})


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "status", "trigger", "requested_by", "progress", "loss", "summary_metrics", "queued_at",
                    "duration")
    list_filter = ("status", "trigger")
    actions = ["cancel_runs"]
    change_list_template = "admin/recommender/trainingrun/change_list.html"
    fieldsets = (
        (None, {"fields": ("status", "stage", "progress", "error", "trigger", "requested_by", "worker",
                           "cancel_requested")}),
        ("Loss", {"fields": ("loss_curve",)}),
        ("Quality, against the live version", {"fields": ("metrics_table", "quality_gate", "data_counts")}),
        ("Timings", {"fields": ("queued_at", "started_at", "heartbeat_at", "finished_at", "timings_table")}),
        ("Parameters", {"fields": ("params", "celery_task_id")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + [
            "progress", "loss_curve", "metrics_table", "quality_gate", "data_counts", "timings_table"]

    def has_add_permission(self, request):
        return False  # runs are requested through "Retrain now", which validates and enqueues

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        retrain = path("retrain/", self.admin_site.admin_view(self.retrain_view),
                       name="recommender_trainingrun_retrain")
        return [retrain, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "open_run": TrainingRun.objects.filter(status__in=TrainingRun.OPEN_STATUSES).first()}
        return super().changelist_view(request, extra_context)

    def retrain_view(self, request):
        """"Retrain now": a parameter form that requests a run (trigger admin)."""
        if not self.has_view_permission(request) or not request.user.is_staff:
            return HttpResponseRedirect(reverse("admin:index"))
        form = RetrainForm.with_defaults(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                run = training_run_request(trigger=TrainingRun.Trigger.ADMIN, requested_by=request.user,
                                           params=form.cleaned_data)
            except TrainingRunError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"Training run {run.pk} queued; this page follows its progress.")
                return HttpResponseRedirect(reverse("admin:recommender_trainingrun_change", args=[run.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Retrain the embeddings"}
        return render(request, "admin/recommender/trainingrun/retrain.html", context)

    @admin.action(description="Cancel selected runs")
    def cancel_runs(self, request, queryset):
        for run in queryset:
            try:
                cancelled = training_run_cancel(run=run)
            except TrainingRunError as error:
                messages.warning(request, str(error))
            else:
                verb = "cancelled" if cancelled.status == TrainingRun.Status.CANCELLED else "asked to stop"
                messages.success(request, f"Run {run.pk} {verb}.")

    @admin.display(description="Progress")
    def progress(self, run: TrainingRun):
        state = training_run_progress(run=run)
        if not run.epochs:
            return run.stage or "—"
        percent = round(100 * state["fraction_done"])
        return format_html(
            '<div style="min-width:10em"><div style="background:#e3e3e3;height:.7em;border-radius:.35em">'
            '<div style="background:#417690;height:.7em;border-radius:.35em;width:{}%"></div></div>'
            "<small>epoch {}/{} · step {}/{} · {}</small></div>",
            percent, run.epoch, run.epochs, run.step, run.steps_per_epoch, run.stage,
        )

    @admin.display(description="Last epoch loss")
    def loss(self, run: TrainingRun):
        return f"{run.loss_history[-1]:.4f}" if run.loss_history else "—"

    @admin.display(description="Quality")
    def summary_metrics(self, run: TrainingRun):
        shown = [(name, run.metrics[name]) for name in SUMMARY_METRICS if isinstance(run.metrics.get(name), float)]
        return format_html_join(mark_safe("<br>"), "{}: {}", ((n, f"{v:.3f}") for n, v in shown)) or "—"

    @admin.display(description="Duration")
    def duration(self, run: TrainingRun):
        if run.started_at and run.finished_at:
            return f"{(run.finished_at - run.started_at).total_seconds():.0f} s"
        return "—"

    @admin.display(description="Loss per epoch")
    def loss_curve(self, run: TrainingRun):
        return training.loss_curve(run.loss_history) or "—"

    @admin.display(description="Metrics")
    def metrics_table(self, run: TrainingRun):
        if run.metrics.get("live"):  # what its quality gate compared it with
            return metrics_comparison(run.metrics, run.metrics["live"], live_heading="live when it finished")
        # Unfinished, or nothing was live when it finished: the version live now, which may be its own.
        live = active_version()
        is_own = live is not None and live.training_run_id == run.pk
        return metrics_comparison(run.metrics, live.metrics if live else {},
                                  live_heading="live version (this run's)" if is_own else "live version")

    @admin.display(description="Quality gate")
    def quality_gate(self, run: TrainingRun):
        gate = run.metrics.get("quality_gate")
        if not gate:
            return "—"
        if gate["passed"]:
            return "passed: activated"
        return format_html("not activated: {}", "; ".join(gate["reasons"]))

    @admin.display(description="Training data")
    def data_counts(self, run: TrainingRun):
        counts = run.metrics.get("data") or {}
        return ", ".join(f"{name.replace('_', ' ')} {value:,}" for name, value in counts.items()) or "—"

    @admin.display(description="Seconds per stage")
    def timings_table(self, run: TrainingRun):
        timings = run.timings or {}
        others = sorted(set(timings) - {*RUN_STAGES, "pairs_per_second"})
        stages = [name for name in RUN_STAGES if name in timings] + others
        shown = ", ".join(f"{name.replace('_', ' ')} {timings[name]:,}" for name in stages)
        if "pairs_per_second" in timings:
            shown += f" ({timings['pairs_per_second']:,.0f} training pairs a second)"
        return shown or "—"


@admin.register(EmbeddingVersion)
class EmbeddingVersionAdmin(admin.ModelAdmin):
    list_display = ("id", "is_active", "is_ready", "dimensions", "book_count", "link_count",
                    "shelf_model_book_count", "ann_recall_at_10", "summary_metrics", "quality_gate", "layout_method",
                    "training_run", "created_at", "activated_at")
    list_select_related = ("training_run",)
    list_filter = ("is_active", "is_ready")
    actions = ["activate"]
    change_list_template = "admin/recommender/embeddingversion/change_list.html"
    fields = ("is_active", "is_ready", "dimensions", "book_count", "link_count", "shelf_model_book_count",
              "ann_recall_at_10", "metrics_table", "quality_gate", "layout_method", "training_run", "created_at",
              "activated_at")

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False  # versions are published by training runs

    def has_delete_permission(self, request, obj=None):
        return False  # pruning keeps the last few; the live one is never deleted

    def get_urls(self):
        roll_back = path("roll-back/", self.admin_site.admin_view(require_POST(self.roll_back_view)),
                         name="recommender_embeddingversion_roll_back")
        return [roll_back, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_roll_back": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def roll_back_view(self, request):
        """"Roll back to the previous version", the version list's button: needs no version selected."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        try:
            version = version_rollback()
        except NoPreviousVersion as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Rolled back: version {version.pk} is live.")
        return HttpResponseRedirect(reverse("admin:recommender_embeddingversion_changelist"))

    @admin.display(description="Quality")
    def summary_metrics(self, version: EmbeddingVersion):
        return TrainingRunAdmin.summary_metrics(None, version)

    @admin.display(description="Quality gate")
    def quality_gate(self, version: EmbeddingVersion):
        """Whether its run let it go live: "passed", or "held back" with the gate's reasons."""
        gate = _quality_gate_of(version)
        if gate is None:
            return "—"
        return "passed" if gate["passed"] else "held back: " + "; ".join(gate["reasons"])

    @admin.display(description="Metrics")
    def metrics_table(self, version: EmbeddingVersion):
        live = active_version()
        is_live = live is not None and live.pk == version.pk
        return metrics_comparison(version.metrics, live.metrics if live else {},
                                  live_heading="live version (this one)" if is_live else "live version")

    @admin.action(description="Activate the selected version")
    def activate(self, request, queryset):
        count = queryset.count()
        if count == 0:
            messages.error(request, "The selected version is gone: it was pruned after the list was shown.")
            return
        if count != 1:
            messages.error(request, "Select exactly one version to activate.")
            return
        try:
            version = version_activate(version=queryset.get())
        except VersionNotReady as error:
            messages.error(request, str(error))
            return
        gate = _quality_gate_of(version)
        if gate is not None and not gate["passed"]:
            messages.warning(request, f"Version {version.pk} is live, as asked, though the quality gate held it back: "
                                      + "; ".join(gate["reasons"]) + ". \"Roll back\" undoes it.")
        else:
            messages.success(request, f"Version {version.pk} is live.")


def _quality_gate_of(version: EmbeddingVersion) -> dict | None:
    """The quality gate's verdict on ``version`` as its training run recorded it (None for a version no run made)."""
    run = version.training_run
    return (run.metrics or {}).get("quality_gate") if run is not None else None


def metrics_comparison(metrics: dict, live: dict, *, live_heading: str):
    """A table of this run's or version's metrics beside the live version's, headed ``live_heading``."""
    names = list(dict.fromkeys(name for name, _ in metrics_in_order({**live, **metrics})))
    if not names:
        return "—"

    def shown(value):
        if isinstance(value, float):
            return f"{value:.3f}"
        return "—" if value is None else str(value)

    rows = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
                            ((name, shown(metrics.get(name)), shown(live.get(name))) for name in names))
    return format_html('<table class="metrics"><caption>{}</caption><thead><tr><th>metric</th><th>this</th>'
                       "<th>{}</th></tr></thead><tbody>{}</tbody></table>", METRICS_CAPTION, live_heading, rows)
