"""Staff controls of the embeddings: training runs (retrain, follow, cancel), embedding versions
(activate, roll back) and the supervised model's predictions (accept into the catalogue, reject). Every action calls a service; nothing here writes a model directly."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods

from recommender.metric_labels import metric_label
from recommender.models import BookPrediction, EmbeddingVersion, PredictionReview, TrainingRun
from recommender.selectors import active_version, training_run_progress
from recommender.services.predictions import predictions_accept, predictions_reject
from recommender.services.training_pipeline import RUN_STAGES
from recommender.services.training_runs import TrainingRunError, training_run_cancel, training_run_request
from recommender.services.versions import (
    NoPreviousVersion,
    VersionNotReady,
    version_activate,
    version_rollback,
    version_rollback_target,
)
from recommender.templatetags import training
from recommender.templatetags.predictions import prediction_figures
from recommender.training.params import BOUNDS, TrainingParams
from recommender.training.predictions import SHOWN_CONFIDENCE
from recommender.training.quality import metrics_in_order

SUMMARY_METRICS = ("shelf_recall@20", "same_author_precision@5", "heldout_auc")

METRICS_CAPTION = (
    "Shelf recall / NDCG@20: the served shelf recommendations for readers held out of training (the held-out "
    "readers), 80 % of their shelves shown and 20 % to find; neighbour-vote: the same by neighbour voting on the "
    "book vectors; most-popular: the most popular books. Same-author precision@k: the share of a book's k nearest "
    "books that have its author (books whose author has 2+). Held-out link AUC: link prediction on held-out pairs."
)


VARIANT_LABELS = {"classification": "classification (sigmoid, cross-entropy)",
                  "regression": "regression (±1 labels, MSE)"}


def _param_field(name: str, **kwargs) -> forms.Field:
    """The form field of training parameter ``name``, bounded as ``BOUNDS`` says."""
    bound = BOUNDS[name]
    if bound.kind is str:
        return forms.ChoiceField(choices=[(choice, VARIANT_LABELS.get(choice, choice)) for choice in bound.choices],
                                 **kwargs)
    field = forms.IntegerField if bound.kind is int else forms.FloatField
    return field(min_value=bound.lowest, max_value=bound.highest, **kwargs)


class ReadOnlyPage:
    """An admin whose object pages only show: no "Save" buttons (their actions are the list's and the page's own)."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False,
                         "show_save_and_add_another": False, "show_delete": False}
        return super().changeform_view(request, object_id, form_url, extra_context)


class RetrainForm(forms.Form):
    """The knobs staff usually turn; every other parameter keeps its default (recommender/training/params.py)."""

    epochs = _param_field("epochs",
                          help_text="At least: a small catalogue runs more, to make min_steps steps (250).")
    embedding_dim = _param_field("embedding_dim", label="Embedding size")
    variant = _param_field("variant")
    shelf_weight = _param_field(
        "shelf_weight", help_text="How much a reader's shelf pair counts against a content pair; 0 ignores shelves.")
    seed = _param_field("seed")

    @classmethod
    def with_defaults(cls, data=None) -> RetrainForm:
        defaults = TrainingParams()
        return cls(data, initial={name: getattr(defaults, name) for name in cls.base_fields})


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyPage, admin.ModelAdmin):
    list_display = ("id", "status", "requested", "progress", "summary_metrics")
    list_filter = ("status", "trigger")
    actions = ["cancel_runs"]
    change_list_template = "admin/recommender/trainingrun/change_list.html"
    fieldsets = (
        (None, {"fields": ("status", "stage", "progress", "error", "trigger", "requested_by", "worker",
                           "cancel_requested")}),
        ("Loss", {"fields": ("loss_curve",)}),
        ("Quality, against the live version", {"fields": ("metrics_table", "quality_gate", "data_counts")}),
        ("Predictions from the vectors, against three baselines", {"fields": ("predictions_table",)}),
        ("Timings", {"fields": ("queued_at", "started_at", "heartbeat_at", "finished_at", "timings_table")}),
        ("Parameters (changed from the defaults marked)", {"fields": ("params_table", "celery_task_id")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + [
            "progress", "loss_curve", "metrics_table", "quality_gate", "data_counts", "timings_table", "requested",
            "params_table", "predictions_table"]

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

    @admin.display(description="Requested", ordering="queued_at")
    def requested(self, run: TrainingRun):
        """How and when it was asked for, and how long it took."""
        who = f" by {run.requested_by.username}" if run.requested_by else ""
        took = self.duration(run)
        return format_html("{}{}<br><small>{}{}</small>", run.get_trigger_display(), who,
                           date_format(localtime(run.queued_at), "j M Y H:i"), "" if took == "—" else f" · {took}")

    @admin.display(description="Parameters")
    def params_table(self, run: TrainingRun):
        """The run's parameters, one a row, those it set away from the defaults marked (with the default beside)."""
        from recommender.training.params import TrainingParams

        defaults = TrainingParams().to_dict()
        rows = format_html_join("", '<tr{}><th>{}</th><td>{}</td><td>{}</td></tr>', (
            (mark_safe(' class="changed"') if name in defaults and defaults[name] != value else "",
             name.replace("_", " "), _shown_param(value),
             "" if name not in defaults or defaults[name] == value else format_html("default {}",
                                                                                    _shown_param(defaults[name])))
            for name, value in sorted((run.params or {}).items())))
        if not rows:
            return "—"
        return format_html('<table class="params"><thead><tr><th>parameter</th><th>value</th><th>changed from'
                           '</th></tr></thead><tbody>{}</tbody></table>', rows)

    @admin.display(description="Quality")
    def summary_metrics(self, run: TrainingRun):
        shown = [(name, run.metrics[name]) for name in SUMMARY_METRICS if isinstance(run.metrics.get(name), float)]
        return format_html_join(mark_safe("<br>"), '{} <span style="white-space:nowrap">{}</span>',
                                ((metric_label(n), f"{v:.3f}") for n, v in shown)) or "—"

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

    @admin.display(description="Held-out figures")
    def predictions_table(self, run: TrainingRun):
        return prediction_figures(run.metrics)

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
        return ", ".join(f"{name.replace('_', ' ')} {_figure(value)}" for name, value in counts.items()) or "—"

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
class EmbeddingVersionAdmin(ReadOnlyPage, admin.ModelAdmin):
    list_display = ("id", "state", "size", "summary_metrics", "quality_gate", "training_run", "created_at")
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
        roll_back = path("roll-back/", self.admin_site.admin_view(require_http_methods(["GET", "POST"])(self.roll_back_view)),
                         name="recommender_embeddingversion_roll_back")
        return [roll_back, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_roll_back": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def roll_back_view(self, request):
        """"Roll back to the previous version", the version list's button: needs no version selected. It asks
        first (GET), naming the version that goes live with its figures beside the live one's; POST rolls back."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "GET":
            target = version_rollback_target()
            if target is None:
                messages.error(request, "There is no earlier ready version to roll back to.")
                return HttpResponseRedirect(reverse("admin:recommender_embeddingversion_changelist"))
            return self._confirmation(request, target, title=f"Roll back to version {target.pk}?",
                                      form_action=reverse("admin:recommender_embeddingversion_roll_back"),
                                      confirm_label=f"Yes, roll back to version {target.pk}")
        try:
            version = version_rollback()
        except NoPreviousVersion as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Rolled back: version {version.pk} is live.")
        return HttpResponseRedirect(reverse("admin:recommender_embeddingversion_changelist"))

    def _confirmation(self, request, version: EmbeddingVersion, *, title: str, form_action: str, confirm_label: str,
                      action: str = ""):
        """The page that asks before ``version`` goes live: what it is, its figures beside the live version's."""
        live = active_version()
        gate = _quality_gate_of(version)
        heading = f"live now (version {live.pk})" if live else "live now (none)"
        return TemplateResponse(request, "admin/recommender/embeddingversion/confirm_live.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "version": version,
            "live": live, "gate": gate, "form_action": form_action, "confirm_label": confirm_label, "action": action,
            "comparison": metrics_comparison(version.metrics, live.metrics if live else {}, live_heading=heading),
        })

    @admin.display(description="State", ordering="is_active")
    def state(self, version: EmbeddingVersion):
        return "live" if version.is_active else "ready" if version.is_ready else "not ready"

    @admin.display(description="Size")
    def size(self, version: EmbeddingVersion):
        return format_html("{} books<br>{} links<br>{} dimensions", f"{version.book_count:,}",
                           f"{version.link_count:,}", version.dimensions)

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
        if request.POST.get("confirmed") != "yes":
            version = queryset.get()
            return self._confirmation(request, version, title=f"Make version {version.pk} live?", form_action="",
                                      confirm_label=f"Yes, make version {version.pk} live", action="activate")
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


def _figure(value) -> str:
    """A training-data figure as shown: a count with thousands separators, a list of names (the sources centred)
    joined."""
    if isinstance(value, list | tuple):
        return " and ".join(map(str, value)) if value else "none"
    return f"{value:,}"


def _shown_param(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if len(value) <= 8 else f"{len(value)} entries: " + ", ".join(
            map(str, value[:8])) + ", …"
    return str(value)


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

    rows = format_html_join("", '<tr><th>{}</th><td class="figure">{}</td><td class="figure">{}</td></tr>',
                            ((metric_label(name), shown(metrics.get(name)), shown(live.get(name))) for name in names))
    return format_html('<table class="metrics"><caption>{}</caption><thead><tr><th>metric</th><th>this</th>'
                       "<th>{}</th></tr></thead><tbody>{}</tbody></table>", METRICS_CAPTION, live_heading, rows)


class PredictionVersionFilter(admin.SimpleListFilter):
    """The live version's predictions unless staff ask for every version's."""

    title = "version"
    parameter_name = "version"

    def lookups(self, request, model_admin):
        return [("all", "All versions")]

    def choices(self, changelist):
        yield {"selected": self.value() is None, "query_string": changelist.get_query_string(remove=[self.parameter_name]),
               "display": "The live version"}
        yield {"selected": self.value() == "all", "query_string": changelist.get_query_string({self.parameter_name: "all"}),
               "display": "All versions"}

    def queryset(self, request, queryset):
        if self.value() == "all":
            return queryset
        return queryset.filter(version__is_active=True)


class PredictionShownFilter(admin.SimpleListFilter):
    title = "shown to readers"
    parameter_name = "shown"

    def lookups(self, request, model_admin):
        return [("yes", f"Yes (confidence {SHOWN_CONFIDENCE:.0%} or more)"), ("no", "No (below)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(confidence__gte=SHOWN_CONFIDENCE)
        if self.value() == "no":
            return queryset.filter(confidence__lt=SHOWN_CONFIDENCE)
        return queryset


@admin.register(BookPrediction)
class BookPredictionAdmin(ReadOnlyPage, admin.ModelAdmin):
    """What the model on the book vectors predicts for books the sources give no genre, country or language: staff
    accept a prediction (written into the book, recorded as staff-given) or reject it (never shown again), one at a
    time with the row's buttons or many with the actions."""

    list_display = ("book_link", "field", "value", "confidence_shown", "version", "review", "decide")
    list_filter = (PredictionVersionFilter, PredictionShownFilter, "field", "value")
    search_fields = ("book__title", "book__author", "value")
    list_select_related = ("book", "version")
    actions = ["accept", "reject"]
    readonly_fields = ("version", "book", "field", "value", "confidence")

    def has_add_permission(self, request):
        return False  # predictions come from training runs

    def has_delete_permission(self, request, obj=None):
        return False  # replaced with their version; staff reject rather than delete

    def get_queryset(self, request):
        reviews = PredictionReview.objects.filter(book=OuterRef("book"), field=OuterRef("field"),
                                                  value=OuterRef("value"))
        return super().get_queryset(request).annotate(accepted=Subquery(reviews.values("accepted")[:1]))

    def get_urls(self):
        decide = path("<int:pk>/<str:verdict>/",
                      self.admin_site.admin_view(require_http_methods(["POST"])(self.decide_view)),
                      name="recommender_bookprediction_decide")
        return [decide, *super().get_urls()]

    def decide_view(self, request, pk: int, verdict: str):
        """Accepts or rejects one prediction (the row's button), then back to the list as it was."""
        if not self.has_change_permission(request) or verdict not in ("accept", "reject"):
            raise PermissionDenied
        queryset = BookPrediction.objects.filter(pk=pk)
        (self.accept if verdict == "accept" else self.reject)(request, queryset)
        return HttpResponseRedirect(reverse("admin:recommender_bookprediction_changelist"))

    @admin.action(description="Accept the selected predictions into the catalogue (staff-given)")
    def accept(self, request, queryset):
        count = predictions_accept(predictions=queryset.select_related("book"), user=request.user)
        messages.success(request, f"{count} prediction{'s' if count != 1 else ''} accepted into the catalogue.")

    @admin.action(description="Reject the selected predictions (never shown again)")
    def reject(self, request, queryset):
        count = predictions_reject(predictions=queryset, user=request.user)
        messages.success(request, f"{count} prediction{'s' if count != 1 else ''} rejected.")

    @admin.display(description="Book", ordering="book__title")
    def book_link(self, prediction: BookPrediction):
        return format_html('<a href="{}">{}</a>', reverse("book", args=[prediction.book_id]), prediction.book)

    @admin.display(description="Confidence", ordering="confidence")
    def confidence_shown(self, prediction: BookPrediction):
        shown = "" if prediction.confidence >= SHOWN_CONFIDENCE else " (not shown)"
        return f"{prediction.confidence:.0%}{shown}"

    @admin.display(description="Reviewed")
    def review(self, prediction: BookPrediction):
        return {True: "accepted", False: "rejected", None: "—"}[prediction.accepted]

    @admin.display(description="")
    def decide(self, prediction: BookPrediction):
        """Buttons of the list's own form (which carries the CSRF token), sent to this prediction's own URL."""
        return format_html_join(" ", '<button type="submit" class="button" formaction="{}">{}</button>',
                                ((reverse("admin:recommender_bookprediction_decide", args=[prediction.pk, verdict]),
                                  label) for verdict, label in (("accept", "Accept"), ("reject", "Reject"))))
