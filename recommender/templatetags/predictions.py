"""Template helpers that show the supervised model's predictions: a genre's page lists, after the books its sources
give the genre, the books predicted to have it (marked); a training run's page shows its prediction figures against
the three baselines."""
from django import template
from django.utils.html import format_html, format_html_join

from recommender.selectors import genre_books_predicted
from recommender.training.predictions import headline

register = template.Library()

PREDICTED_BOOKS_LISTED = 48
"""A genre page lists at most this many predicted books, most confident first."""


@register.inclusion_tag("includes/predicted_books.html", takes_context=True)
def genre_predicted_books(context, name: str):
    """The books predicted to have the genre ``name`` (shown predictions of the active version), most confident
    first, with how many there are in all."""
    books = genre_books_predicted(name=name)
    return {"name": name, "books": list(books[:PREDICTED_BOOKS_LISTED]), "count": books.count(),
            "request": context.get("request")}


METHOD_LABELS = (("model", "model on the vectors"), ("majority", "(a) most frequent"),
                 ("knn", "(b) 10-NN vote, same vectors"), ("logreg", "(c) logistic regression, TF-IDF links"))
FIGURE_LABELS = {"micro_f1": "micro F1", "macro_f1": "macro F1", "top1_accuracy": "top-1 accuracy",
                 "accuracy": "accuracy"}


@register.simple_tag
def prediction_figures(metrics):
    """A run's prediction figures (``metrics["predictions"]``) as a table: each field's held-out figures of the
    model against the three baselines, for all held-out books and each source's, with the model's differences to
    the kNN vote and the logistic regression and their bootstrap 95 % intervals; a failure or a skipped field said in words."""
    figures = (metrics or {}).get("predictions")
    if not figures:
        return "—"
    if "error" in figures:
        return format_html('<p class="errornote">The prediction stage failed; the version was published without '
                           "predictions: {}</p>", figures["error"])
    rows = []
    for field in ("genre", "country", "language"):
        field_figures = figures.get(field)
        if not field_figures:
            continue
        if "skipped" in field_figures:
            rows.append(format_html('<tr><th>{}</th><td colspan="6">not predicted: {}</td></tr>', field,
                                    field_figures["skipped"]))
            continue
        groups = [("all", field_figures), *sorted((field_figures.get("by_source") or {}).items())]
        for group, group_figures in groups:
            for metric in [name for name in FIGURE_LABELS if name in group_figures["model"]]:
                rows.append(format_html(
                    "<tr><th>{} · {} ({}, {} held out)</th>{}{}</tr>",
                    field, FIGURE_LABELS[metric], group, group_figures["heldout_books"],
                    format_html_join("", "<td>{}</td>", ((_figure(group_figures[method].get(metric)),)
                                                         for method, _ in METHOD_LABELS)),
                    format_html_join("", "<td>{}</td>", (
                        (_difference(group_figures.get(f"model_minus_{baseline}")) if metric == headline(field)
                         else "",) for baseline in ("knn", "logreg"))),
                ))
    head = format_html_join("", "<th>{}</th>", ((label,) for _, label in METHOD_LABELS))
    stored = figures.get("stored")
    return format_html(
        '<table class="data-table prediction-figures"><thead><tr><th>held-out books</th>{}<th>model − (b), 95 % interval</th><th>model − (c), 95 % interval</th>'
        "</tr></thead><tbody>{}</tbody></table><p class=\"help\">{}Shown to readers: confidence {} or more.</p>",
        head, format_html_join("", "{}", ((row,) for row in rows)),
        f"{stored:,} predictions stored. " if stored is not None else "", f"{figures.get('shown_confidence', 0):.0%}")


def _figure(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _difference(difference: dict | None) -> str:
    if not difference:
        return ""
    low, high = difference["ci95"]
    return f"{difference['difference']:+.3f} [{low:+.3f}, {high:+.3f}]"
