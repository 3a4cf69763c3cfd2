"""Training metrics named in words, for people: one table, used by the staff status page and the admin."""

METRIC_LABELS = {
    "heldout_auc": "Held-out link AUC",
    "same_author_precision@5": "Same-author precision@5",
    "same_author_precision@10": "Same-author precision@10",
    "genre_knn_accuracy@10": "Genre accuracy of the 10 nearest",
    "country_knn_accuracy@10": "Country accuracy of the 10 nearest",
    "shelf_recall@20": "Shelf recall@20",
    "shelf_ndcg@20": "Shelf NDCG@20",
    "popularity_recall@20": "Most-popular recall@20 (baseline)",
    "popularity_ndcg@20": "Most-popular NDCG@20 (baseline)",
    "votes_recall@20": "Neighbour-vote recall@20",
    "votes_ndcg@20": "Neighbour-vote NDCG@20",
    "shelf_users": "Held-out readers",
}
SOURCE_LABELS = {"wikipedia": "Wikipedia books", "goodbooks": "goodbooks-10k books"}


def metric_label(name: str) -> str:
    """ "same_author_precision@5" → "Same-author precision@5"; a per-source figure ("wikipedia:…") says whose
    books it counts; a name without a label reads as words ("new_metric" → "New metric")."""
    source, _, metric = name.rpartition(":")
    label = METRIC_LABELS.get(metric) or metric.replace("_", " ").capitalize()
    return f"{label}, {SOURCE_LABELS.get(source, source + ' books')}" if source else label
