"""Every knob of an embedding training run, in one frozen record.

A run stores ``TrainingParams.to_dict()`` next to its vectors so that it can say exactly what it used,
and ``TrainingParams.from_dict()`` rebuilds (and validates) the same record from that JSON.

Link hygiene (which link names are dropped before training) also lives here, because it changes what a
run learns: ``DEFAULT_REMOVED_LINKS`` is the original notebook's list of Wikipedia format/maintenance
links plus the goodbooks shelf-name tags that describe the *reader's* shelf rather than the *book*
("to-read", "owned", "kindle", "read-in-2015", ...). The goodbooks list was chosen from the 150 most used
tags of ``goodbooks/tags.csv`` x ``book_tags.csv``: a tag is removed when it names a reading status,
ownership, a format/device, a rating, a year, or a generic "favourites"/"books" bucket; genre-like
tags ("fiction", "young-adult", "classics", "ya") are kept. Removing 76 rarer tags of the same kinds too
("my-favorites", "faves", "5-star", "loved", "read-more-than-once", "2015-books", ...) made the shelf model
slightly worse on goodbooks validation readers (0.184 / 0.125 against 0.185 / 0.126), so they stay.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

WIKIPEDIA_REMOVED_LINKS: tuple[str, ...] = (
    "hardcover",
    "paperback",
    "hardback",
    "e-book",
    "wikipedia:wikiproject books",
    "wikipedia:wikiproject novels",
)

GOODBOOKS_SHELF_TAGS: tuple[str, ...] = (
    # reading status
    "to-read", "currently-reading", "want-to-read", "tbr", "maybe", "unread", "finished", "re-read",
    "reread", "abandoned", "did-not-finish", "didn-t-finish", "dnf", "unfinished", "reviewed",
    "default", "must-read", "recommended", "to-read-fiction", "own-to-read", "book-club", "bookclub",
    # ownership and where the copy lives
    "owned", "owned-books", "books-i-own", "i-own", "own-it", "have", "books-i-have", "my-books",
    "my-library", "library", "library-books", "library-book", "home-library", "borrowed",
    "bookshelf", "on-my-shelf", "to-buy", "need-to-buy", "wish-list", "calibre", "shelfari-favorites",
    # format and device
    "kindle", "kindle-books", "nook", "ebook", "ebooks", "e-books", "audiobook", "audiobooks",
    "audio", "audio-book", "audio-books", "audible",
    # ratings and favourites buckets
    "favorites", "favourites", "favorite", "favorite-books", "all-time-favorites",
    "favorite-authors", "favorite-series", "5-stars", "4-stars", "books",
)

GOODBOOKS_SHELF_TAG_PATTERNS: tuple[str, ...] = (
    r"read-in-\d{4}",
    r"read-\d{4}",
    r"\d{4}-reads?",
    r"read-in-english",
)

DEFAULT_REMOVED_LINKS: tuple[str, ...] = WIKIPEDIA_REMOVED_LINKS + GOODBOOKS_SHELF_TAGS

VARIANTS = ("classification", "regression")


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters of one training run; every default is the one measured best (see bench/)."""

    # Model
    embedding_dim: int = 64
    """Size of book and link vectors. The original used 50: on goodbooks (tags + shelves) 50 gives held-out link
    AUC 0.938 and neighbour-voted shelf Recall@20 / NDCG@20 0.169 / 0.109 against 0.941 and 0.169 / 0.112 at 64
    (bench/quality_goodbooks.py); on the Wikipedia books same-author precision@5 0.555 either way
    (bench/quality_wikipedia.py); 128 is no better on goodbooks and 4x slower."""
    variant: str = "classification"
    """"classification": Dense(1, sigmoid) on the cosine, labels 1/0, binary cross-entropy (the original's
    classification model). "regression": the cosine itself, labels +1/-1, mean squared error. On real data
    classification is clearly better: goodbooks (tags + shelves, bench/quality_goodbooks.py) held-out link
    AUC 0.941 against 0.915, same-author precision@5 0.563 against 0.421, neighbour-voted shelf Recall@20
    0.173 against 0.126; goodbooks tags alone: AUC 0.984 against 0.963, neighbour-voted Recall@20 0.137
    against 0.108; the 1,413 Wikipedia books: see bench/results/quality_wikipedia.json. On the
    synthetic seed-scale data (bench/training.py) regression does better (link AUC 0.889 against 0.865,
    planted-genre precision@10 0.996 against 0.975): a fixed, softer head (5) would win there but loses on
    goodbooks (0.524), where the learned head grows sharper.
    The figures in the optimisation docs below were measured with regression (the default then)."""

    # Optimisation
    epochs: int = 15
    """Passes over the (weighted) training pairs, at least (see ``min_steps``). At seed scale link AUC is 0.885
    after 5, 0.889 after 15."""
    min_steps: int = 250
    """Small catalogues train for more epochs than ``epochs``, as many as make at least this many steps (0: never
    more). The 1,413 Wikipedia books' 17,281 pairs make 5 steps an epoch, so 15 epochs were 75 steps: over 6
    seeds, same-author precision@5 0.552 (0.545 to 0.562 by seed) and genre 10-NN accuracy 0.380, against
    0.561 (0.555 to 0.563) and 0.404 with 250 steps (50 epochs, bench/quality_wikipedia.py); 600 steps gave
    0.561 too. Goodbooks (200 steps an epoch), the bundled sample (26) and the seed-scale data (189) train as
    before. The other figures in these docs were measured with 15 epochs."""
    batch_size: int = 4096
    """True pairs per step, rounded up to whole groups of ``group_size``. 8,192 trains as fast and as well at
    seed scale; on the 17,281 Wikipedia pairs (2 steps an epoch) it gives same-author precision@5 0.560 and
    link AUC 0.825 against 0.562 and 0.834."""
    group_size: int = 16
    """A step's true pairs are scored in groups of this many: each pair's book against the other links of its
    group, which gives ``group_size - 1`` negatives a pair for the price of one small matrix product instead of
    rows of their own to gather and update. Groups of 8, 32 or 64 (with as many ``drawn_negatives``) give the
    same seed-scale link AUC (0.883 after 5 epochs) and are no quicker."""
    drawn_negatives: int = 16
    """Links, and as many books, drawn for each group (by degree**``negative_power``) as further negatives of
    every pair of the group: a pair's book is scored against the drawn links, its link against the drawn books.
    They cost rows to gather and update (what a step's time goes on), but in-group negatives alone over-sample
    popular links: with half as many (16 for groups of 32) seed-scale link AUC is 0.874 against 0.883 after
    5 epochs, for 1.3x the speed."""
    negatives_per_positive: int = 2
    """How much a true pair's negatives weigh against the pair: their mean loss counts this many times the
    pair's own (the original drew 2 negatives a pair, each counting as much as the pair). 1 or 4 give
    Wikipedia same-author precision@5 0.549 and 0.556 against 0.555 (at learning rate 0.1)."""
    negative_power: float = 0.0
    """Drawn negatives come with probability degree**power: 0 is uniform (the original), 0.75 is word2vec's
    unigram^0.75, 1 is proportional to popularity. In-group negatives already follow popularity, and uniform
    drawn ones cover the rare links: 0.75 gives seed-scale link AUC 0.868 against 0.889 (Wikipedia same-author
    precision@5 0.562 either way)."""
    reject_true_pairs: bool = False
    """Leave out negatives that are true pairs (looked up for a whole epoch at once in a bitmap of the
    training pairs, ``dataset.TruePairs``). Measured no better and slower, so off: goodbooks (tags + shelves)
    held-out link AUC 0.943 against 0.941, neighbour-voted shelf Recall@20 / NDCG@20 0.166 / 0.111 against
    0.169 / 0.112, training 13.9 s against 10.9 s; Wikipedia same-author precision@5 0.553 against 0.555;
    seed scale link AUC 0.866 against 0.865 and 1.4x the time (bench/training.py). Without it 0.37 % of
    in-group negatives and 0.06 % of drawn ones are true pairs at seed scale (word2vec does not reject them
    either)."""
    learning_rate: float = 0.05
    """Step size of the gradient descent on the rows a step uses, for the summed loss of a step's true pairs
    (so it does not change with ``batch_size``). Wikipedia same-author precision@5 is 0.527 at 0.2, 0.555 at
    0.1, 0.562 at 0.05, 0.559 at 0.02; seed-scale link AUC 0.889 at 0.05 and 0.1."""

    # Data
    shelf_weight: float = 1.0
    """How much one shelf pair counts against one content pair (sampling weight); 0 trains on content only."""
    holdout_fraction: float = 0.05
    """Share of pairs kept out of training to measure link-prediction AUC; 0 trains on everything."""
    min_books_per_link: int = 2
    """A link (wikilink, tag) is kept only if at least this many books use it. The original used 4 on 37k
    books; on the 1,413 Wikipedia books 2 gives same-author precision@5 0.509 against 0.482 (3) and 0.463 (4)."""
    link_count_power: float = 2.0
    """A content pair is sampled in proportion to count**power, count being how many times the book's article
    links the page (Wikipedia; tags count 1): an article links its author and series again and again. With
    ``link_idf_power`` 1, on the 1,413 Wikipedia books, same-author precision@5 is 0.519 (power 0), 0.545 (1),
    0.559 (2), 0.536 (3, at dim 128) — bench/quality_wikipedia_study.py."""
    link_idf_power: float = 1.0
    """A content pair is also sampled in proportion to idf**power, idf = ln(books / books using the link), so
    that rare, telling links count more than "novel" or "united states"; 0 turns it off."""
    removed_links: tuple[str, ...] = DEFAULT_REMOVED_LINKS
    """Normalised link names never used for training."""
    removed_link_patterns: tuple[str, ...] = GOODBOOKS_SHELF_TAG_PATTERNS
    """Regular expressions (full match) of normalised link names never used for training."""

    # Shelf model (recommender/training/shelf_model.py): "books for your shelf"
    shelf_model: bool = True
    """Fit the shelf model where readers' shelves exist; False serves shelves by neighbour voting on the
    book vectors (``recommender.training.scoring``)."""
    shelf_model_link_weight: float = 50.0
    """Weight of the books' content links against readers' shelves in the shelf model's Gram matrix. On
    goodbooks tuning readers, Recall@20 / NDCG@20: 0.166 / 0.111 without links (0), 0.186 / 0.126 (25),
    0.186 / 0.128 (50), 0.179 / 0.125 (100) — bench/quality_goodbooks.py."""
    shelf_model_regularisation: float = 300.0
    """L2 penalty of the shelf model's book × book weights: 0.185 / 0.128 (150), 0.186 / 0.128 (300),
    0.187 / 0.125 (600) on the same readers."""
    shelf_model_dropout: float = 0.25
    """Adds dropout / (1 - dropout) x (the book's Gram diagonal) to each book's L2 penalty (EDLAE): 0.185 /
    0.127 (0.1), 0.186 / 0.128 (0.25), 0.186 / 0.127 (0.5), 0.185 / 0.125 for plain EASE (0, penalty 500)."""
    shelf_model_min_shelves: int = 3
    """Only books on at least this many training shelves (each counting its weight: ten "read" shelves at
    ``shelf_model_other_shelves_weight`` count one) are in the shelf model. A book on one or two says
    little but what those few shelves hold (a Wikipedia book one reader shelved would answer with that
    reader's other books); outside the model it is answered by its neighbours in the embeddings instead.
    On goodbooks' validation readers (bench/quality_goodbooks.py) 3 costs nothing measurable: 0.1829 / 0.1244
    against 0.1830 / 0.1246 with 1 (5: 0.1825 / 0.1242), leaving 114 of 6,559 books to neighbour voting."""
    shelf_model_max_books: int = 12000
    """At most this many of the most shelved books are in the shelf model: its solve is cubic in them, each
    book's shelf vector has one component per modelled book (pgvector's halfvec holds up to 16,000), and a
    version stores their square (about 6,500 goodbooks books: 85 MB in half precision)."""
    shelf_model_shelf_kinds: tuple[str, ...] = ("want-to-read",)
    """Kinds of shelves the shelf model learns from fully: the want-to-read shelves that the goodbooks bar
    measures. Other kinds count at ``shelf_model_other_shelves_weight``."""
    shelf_model_other_shelves_weight: float = 0.1
    """Each reader's shelves of the other kinds (read, reading, favourites, their own) together make one more
    shelf in the shelf model, counting this much against a shelf of ``shelf_model_shelf_kinds`` (0 leaves
    them out). On goodbooks, whose "read" shelves are readers' ratings, with the validation readers of
    bench/quality_goodbooks.py, Recall@20 / NDCG@20 on held-out want-to-read shelves (the bar's protocol) /
    on held-out whole shelves (want-to-read and read, as a run's stored metrics measure them):
    0 gives 0.185 / 0.126 and 0.184 / 0.149; 0.03 gives 0.184 / 0.125 and 0.244 / 0.197; 0.1 gives
    0.183 / 0.125 and 0.258 / 0.209; 0.3 gives 0.182 / 0.123 and 0.270 / 0.219; 1 gives 0.180 / 0.121 and
    0.276 / 0.226 (popularity on whole shelves: 0.120 / 0.096). 0.1 gives up 1 % on want-to-read shelves for
    40 % on whole ones. On whole shelves neighbour voting on the book vectors scored 0.249 / 0.187 against
    the want-to-read-only model's 0.189 / 0.146 and 0.253 / 0.198 at 0.1 (the product's own validation split,
    3,000 readers; an exploration). Rated books added to the want-to-read shelves themselves scored 0.172
    on want-to-read shelves (with the earlier factorised model)."""

    # Run
    seed: int = 42
    """Seeds NumPy, TensorFlow and Python: the same seed and data give the same vectors."""
    threads: int = 0
    """CPU threads TensorFlow may use; 0 lets TensorFlow use every core."""
    progress_every_steps: int = 50
    """``on_progress`` and ``should_stop`` are called every this many steps (and at each epoch end)."""

    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """Free-form notes stored with the run (not used by training)."""

    def __post_init__(self) -> None:
        _validate(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` turns back into an equal record."""
        data = dataclasses.asdict(self)
        data["removed_links"] = list(self.removed_links)
        data["removed_link_patterns"] = list(self.removed_link_patterns)
        data["shelf_model_shelf_kinds"] = list(self.shelf_model_shelf_kinds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingParams:
        """Builds params from a (possibly partial) dict; unknown or invalid fields raise ValueError naming them."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training parameter(s): {', '.join(unknown)}")
        values = dict(data)
        for name in ("removed_links", "removed_link_patterns", "shelf_model_shelf_kinds"):
            if name in values:
                if isinstance(values[name], str) or not isinstance(values[name], (list, tuple)):
                    raise TrainingParamInvalid(name, "expected a list of strings")
                values[name] = tuple(values[name])
        return cls(**values)


class TrainingParamInvalid(ValueError):
    """One training parameter is out of its range or of the wrong type; ``name`` says which."""

    def __init__(self, name: str, message: str):
        super().__init__(f"{name}: {message}")
        self.name, self.message = name, message


def _validate(params: TrainingParams) -> None:
    def check(name: str, ok: bool, expected: str) -> None:
        if not ok:
            raise TrainingParamInvalid(name, f"expected {expected}, got {getattr(params, name)!r}")

    def is_int(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    def is_number(value: Any) -> bool:
        return (is_int(value) or isinstance(value, float)) and math.isfinite(value)

    check("embedding_dim", is_int(params.embedding_dim) and 2 <= params.embedding_dim <= 2000,
          "an integer between 2 and 2000")
    check("variant", params.variant in VARIANTS, f"one of {', '.join(VARIANTS)}")
    check("epochs", is_int(params.epochs) and 1 <= params.epochs <= 10_000, "an integer between 1 and 10000")
    check("min_steps", is_int(params.min_steps) and 0 <= params.min_steps <= 1_000_000,
          "an integer between 0 and 1000000")
    check("batch_size", is_int(params.batch_size) and 1 <= params.batch_size <= 1_000_000,
          "an integer between 1 and 1000000")
    check("group_size", is_int(params.group_size) and 1 <= params.group_size <= 1024, "an integer between 1 and 1024")
    check("drawn_negatives", is_int(params.drawn_negatives) and 0 <= params.drawn_negatives <= 1024,
          "an integer between 0 and 1024")
    check("negatives_per_positive", is_int(params.negatives_per_positive) and 0 <= params.negatives_per_positive <= 100,
          "an integer between 0 and 100")
    check("negative_power", is_number(params.negative_power) and 0 <= params.negative_power <= 1,
          "a number between 0 and 1")
    check("learning_rate", is_number(params.learning_rate) and 0 < params.learning_rate <= 10,
          "a number in (0, 10]")
    check("shelf_weight", is_number(params.shelf_weight) and 0 <= params.shelf_weight <= 1000,
          "a number between 0 and 1000")
    check("holdout_fraction", is_number(params.holdout_fraction) and 0 <= params.holdout_fraction < 0.5,
          "a number in [0, 0.5)")
    check("min_books_per_link", is_int(params.min_books_per_link) and params.min_books_per_link >= 1,
          "an integer of at least 1")
    check("link_count_power", is_number(params.link_count_power) and 0 <= params.link_count_power <= 4,
          "a number between 0 and 4")
    check("link_idf_power", is_number(params.link_idf_power) and 0 <= params.link_idf_power <= 4,
          "a number between 0 and 4")
    check("removed_links", isinstance(params.removed_links, tuple)
          and all(isinstance(name, str) for name in params.removed_links), "a tuple of strings")
    check("removed_link_patterns", isinstance(params.removed_link_patterns, tuple)
          and all(isinstance(name, str) for name in params.removed_link_patterns), "a tuple of strings")
    check("reject_true_pairs", isinstance(params.reject_true_pairs, bool), "true or false")
    check("shelf_model", isinstance(params.shelf_model, bool), "true or false")
    check("shelf_model_link_weight", is_number(params.shelf_model_link_weight)
          and 0 <= params.shelf_model_link_weight <= 1e6, "a number between 0 and 1000000")
    check("shelf_model_regularisation", is_number(params.shelf_model_regularisation)
          and 0 < params.shelf_model_regularisation <= 1e9, "a number in (0, 1000000000]")
    check("shelf_model_dropout", is_number(params.shelf_model_dropout) and 0 <= params.shelf_model_dropout < 1,
          "a number in [0, 1)")
    check("shelf_model_other_shelves_weight", is_number(params.shelf_model_other_shelves_weight)
          and 0 <= params.shelf_model_other_shelves_weight <= 1, "a number between 0 and 1")
    check("shelf_model_min_shelves", is_int(params.shelf_model_min_shelves) and params.shelf_model_min_shelves >= 1,
          "an integer of at least 1")
    check("shelf_model_max_books", is_int(params.shelf_model_max_books)
          and 2 <= params.shelf_model_max_books <= 16000, "an integer between 2 and 16000")
    check("shelf_model_shelf_kinds", isinstance(params.shelf_model_shelf_kinds, tuple)
          and all(isinstance(kind, str) for kind in params.shelf_model_shelf_kinds), "a tuple of strings")
    check("seed", is_int(params.seed) and 0 <= params.seed < 2**32, "an integer in [0, 2**32)")
    check("threads", is_int(params.threads) and 0 <= params.threads <= 1024, "an integer between 0 and 1024")
    check("progress_every_steps", is_int(params.progress_every_steps) and params.progress_every_steps >= 1,
          "an integer of at least 1")
    check("extra", isinstance(params.extra, dict), "a dict")
