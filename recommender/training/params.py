"""Every knob of an embedding training run, in one frozen record, and the range of each (``BOUNDS``), from which
the validation, the admin's retrain form and the API serializer follow.

A run stores ``TrainingParams.to_dict()`` next to its vectors so that it can say exactly what it used,
and ``TrainingParams.from_dict()`` rebuilds (and validates) the same record from that JSON. Link hygiene
(which link names are dropped before training) lives here too, because it changes what a run learns:
``DEFAULT_REMOVED_LINKS`` is the original's Wikipedia format links plus the goodbooks tags that name the
reader's shelf rather than the book ("to-read", "owned", "kindle", "read-in-2015"). Each default's evidence:
BENCHMARKS.md, "Hyper-parameter evidence".
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
SHELF_MODEL_SOLVERS = ("auto", "exact", "neighbourhood")


@dataclass(frozen=True)
class Bound:
    """The range of one scalar parameter: its type, and its lowest and highest value or its choices."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()

    def admits(self, value: Any) -> bool:
        if self.kind is bool:
            return isinstance(value, bool)
        if self.kind is str:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float) if self.kind is float else int):
            return False
        if not math.isfinite(value):
            return False
        above = self.low is None or (value > self.low if self.low_open else value >= self.low)
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def expected(self) -> str:
        """What a value must be, in words: "an integer between 1 and 10000", "a number in (0, 10]"."""
        if self.kind is bool:
            return "true or false"
        if self.kind is str:
            return f"one of {', '.join(self.choices)}"
        noun = "an integer" if self.kind is int else "a number"
        if self.high is None:
            return f"{noun} of at least {_number(self.low)}"
        if self.low_open or self.high_open:
            return (f"{noun} in {'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}"
                    f"{')' if self.high_open else ']'}")
        return f"{noun} between {_number(self.low)} and {_number(self.high)}"

    @property
    def lowest(self) -> float | None:
        """The lowest value a form may offer (an open bound of an integer moves one in)."""
        return self.low + 1 if self.low_open and self.kind is int else self.low

    @property
    def highest(self) -> float | None:
        """The highest value a form may offer (an open bound of an integer moves one in)."""
        return self.high - 1 if self.high_open and self.kind is int and self.high is not None else self.high


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


BOUNDS: dict[str, Bound] = {
    "embedding_dim": Bound(int, 2, 2000),
    "variant": Bound(str, choices=VARIANTS),
    "epochs": Bound(int, 1, 10_000),
    "min_steps": Bound(int, 0, 1_000_000),
    "batch_size": Bound(int, 1, 1_000_000),
    "group_size": Bound(int, 1, 1024),
    "drawn_negatives": Bound(int, 0, 1024),
    "drawn_negative_weight": Bound(float, 0, 100),
    "negatives_per_positive": Bound(int, 0, 100),
    "negative_power": Bound(float, 0, 1),
    "reject_true_pairs": Bound(bool),
    "learning_rate": Bound(float, 0, 10, low_open=True),
    "learning_rate_end": Bound(float, 0, 1),
    "shelf_weight": Bound(float, 0, 1000),
    "holdout_fraction": Bound(float, 0, 0.5, high_open=True),
    "min_books_per_link": Bound(int, 1),
    "link_count_power": Bound(float, 0, 4),
    "link_idf_power": Bound(float, 0, 4),
    "catalogue_link_weight": Bound(float, 0, 100),
    "join_tags_and_wikilinks": Bound(bool),
    "shelf_model": Bound(bool),
    "shelf_model_link_weight": Bound(float, 0, 1_000_000),
    "shelf_model_regularisation": Bound(float, 0, 1_000_000_000, low_open=True),
    "shelf_model_dropout": Bound(float, 0, 1, high_open=True),
    "shelf_model_min_shelves": Bound(int, 1),
    "shelf_model_max_books": Bound(int, 2, 16000),
    "shelf_model_solver": Bound(str, choices=SHELF_MODEL_SOLVERS),
    "shelf_model_neighbours": Bound(int, 1, 5000),
    "shelf_model_out_neighbours": Bound(int, 1, 16000),
    "shelf_model_tail_blend": Bound(float, 0, 1_000_000),
    "shelf_model_tail_neighbours": Bound(int, 1, 5000),
    "shelf_model_tail_scale": Bound(float, 0, 1, low_open=True),
    "shelf_model_tail_selection_readers": Bound(int, 0, 1_000_000),
    "shelf_model_other_shelves_weight": Bound(float, 0, 1),
    "seed": Bound(int, 0, 2**32, high_open=True),
    "threads": Bound(int, 0, 1024),
    "progress_every_steps": Bound(int, 1),
}
"""The range of every scalar parameter (the tuples and ``extra`` are checked by type alone)."""


@dataclass(frozen=True)
class TrainingParams:
    """Hyper-parameters of one training run; every default is the one measured best (see bench/)."""

    # Model
    embedding_dim: int = 64
    """Size of book and link vectors: 64 beats the original's 50 on goodbooks shelves (NDCG@20 0.112 against 0.109)."""
    variant: str = "classification"
    """Sigmoid on the cosine with cross-entropy, not regression: goodbooks link AUC 0.941 against 0.915.
    Regression's squared error wants ``learning_rate`` 0.05, constant (``learning_rate_end`` 1): from 0.1 falling to
    0 it learns the tests' planted groups to link AUC 0.75 against 0.93."""

    # Optimisation
    epochs: int = 15
    """Passes over the (weighted) training pairs, at least (see ``min_steps``): seed-scale link AUC 0.889."""
    min_steps: int = 250
    """Small catalogues train more epochs, to make at least this many steps (0: never more; BENCHMARKS.md
    "Hyper-parameter evidence")."""
    batch_size: int = 8192
    """True pairs per step, rounded up to whole groups of ``group_size`` (4,096 until 2026-12-07: the seed-scale
    vectors generalise better with half the steps for as many passes; BENCHMARKS.md §1)."""
    group_size: int = 32
    """A step's true pairs are scored in groups of this many, each pair against the group's other links
    (``group_size - 1`` negatives for one small matrix product). The cost of a step is mostly the number of
    small matrix products, not their size: groups of 32 with 8 drawn negatives take 5.0 ms of CPU a step of
    4,096 pairs against 7.4 ms for 16 with 16, for as many negatives a pair (47); with the drawn ones weighing
    more (``drawn_negative_weight``) and the falling rate below, Wikipedia's figures stay within the seeds' spread
    of groups of 16 (BENCHMARKS.md §1)."""
    drawn_negatives: int = 8
    """Links (and as many books) drawn per group as further negatives of each of its pairs, against in-group
    negatives' popularity bias (see ``group_size``)."""
    drawn_negative_weight: float = 16.0
    """How much a drawn negative counts against an in-group one in the mean of a pair's negatives (4 until
    2026-12-07). Held-out link AUC scores a book's true link against uniformly drawn links, as the drawn negatives
    are, where the in-group ones come by popularity (BENCHMARKS.md §1)."""
    negatives_per_positive: int = 2
    """How much a true pair's negatives weigh against it (their mean loss counts this many times): 0.555."""
    negative_power: float = 0.0
    """Drawn negatives come with probability degree**power (0: uniform, as the original): 0.75 gives 0.868
    against 0.889 link AUC."""
    reject_true_pairs: bool = False
    """Leave out negatives that are true pairs: no better (goodbooks AUC 0.943 against 0.941) and 1.4x slower."""
    learning_rate: float = 0.1
    """Step size at the first step, for the summed loss of a step's true pairs (see ``learning_rate_end``)."""
    learning_rate_end: float = 0.0
    """The step size falls linearly over the run's steps from ``learning_rate`` to this share of it (1: constant).
    Falling from 0.1 to 0 keeps Wikipedia's figures (same-author 0.5616, genre 0.4026 at 16 / 16 negatives) where
    a constant 0.05 gives 0.5606 / 0.4042; seed-scale link AUC 0.870 against 0.8654 (from 0.05: 0.8772, but
    Wikipedia genre k-NN 0.396)."""

    # Data
    shelf_weight: float = 1.0
    """How much one shelf pair counts against one content pair (sampling weight); 0 trains on content only."""
    holdout_fraction: float = 0.05
    """Share of pairs kept out of training to measure link-prediction AUC; 0 trains on everything."""
    min_books_per_link: int = 2
    """A link (wikilink, tag) is kept only if at least this many books use it: 0.509 against 0.482 at 3."""
    link_count_power: float = 2.0
    """A content pair is sampled in proportion to count**power (how often the article links the page):
    same-author precision@5 0.559 against 0.519 at 0."""
    link_idf_power: float = 1.0
    """A content pair is also sampled in proportion to idf**power, so that rare, telling links count more; 0 turns
    it off."""
    catalogue_link_weight: float = 4.0
    """The catalogue's own entities are links too, whatever source described the book: its authors (``Author``, one
    link per person, the same link as a wikilink to one of the person's spellings) and its genres of the vocabulary
    (the same link as a tag or wikilink of the genre's name), and a book a wikilink names has that wikilink
    (``books.link_targets``). Weighted by idf among themselves, they count this
    many times a content pair (sampling weight; 0 leaves them out). On the bundled sample 4 gives the book vectors'
    shelf Recall@20 0.299 against 0.285 at 0 (and 1), genre k-NN 0.75 against 0.66, Wikipedia same-author
    precision@5 0.552 against 0.565, country k-NN 0.78 against 0.83; 16 gives same-author 0.481 for no more
    bridging (BENCHMARKS.md section 9)."""
    join_tags_and_wikilinks: bool = False
    """A wikilink that names what a reader tag names, spelt otherwise ("World War II" and "world-war-ii", "vampire"
    and "vampires"), is the tag's link (``books.vocabulary``), so the books of both sources share it. Off: on the
    real data it moved neighbours across sources by 0.17 points (3.46 % → 3.63 %), not The Hobbit, for Wikipedia
    same-author precision@5 0.597 → 0.575 and the book vectors' shelf Recall@20 0.2535 → 0.2518 (BENCHMARKS.md
    section 9, "One vocabulary for tags and wikilinks")."""
    removed_links: tuple[str, ...] = DEFAULT_REMOVED_LINKS
    """Normalised link names never used for training."""
    removed_link_patterns: tuple[str, ...] = GOODBOOKS_SHELF_TAG_PATTERNS
    """Regular expressions (full match) of normalised link names never used for training."""

    # Shelf model (recommender/training/shelf_model.py): "books for your shelf"
    shelf_model: bool = True
    """Fit the shelf model where readers' shelves exist; False serves shelves by neighbour voting on the
    book vectors (``recommender.training.scoring``)."""
    shelf_model_link_weight: float = 50.0
    """Weight of the books' content links against readers' shelves in the Gram matrix: NDCG@20 0.128 against
    0.111 without links."""
    shelf_model_regularisation: float = 300.0
    """L2 penalty of the book × book weights: NDCG@20 0.128."""
    shelf_model_dropout: float = 0.25
    """Adds dropout / (1 - dropout) x the book's Gram diagonal to its L2 penalty (EDLAE): 0.128 against 0.125
    for plain EASE."""
    shelf_model_min_shelves: int = 3
    """Only books on at least this many (weighted) training shelves are in the shelf model, the rest answered by
    their neighbours: costs nothing measurable (Recall@20 0.1829 against 0.1830 at 1)."""
    shelf_model_max_books: int = 12000
    """The exact solver models at most this many of the most shelved books: its solve is cubic, and pgvector's
    halfvec holds 16,000 components ("auto" takes the neighbourhood solver beyond it)."""
    shelf_model_solver: str = "auto"
    """"exact": one inversion of the modelled books' whole Gram matrix (cubic, so at most ``shelf_model_max_books``
    books); "neighbourhood": each book's column solved on its ``shelf_model_neighbours`` nearest books only, every
    book on enough shelves modelled, in time and memory linear in the catalogue (``shelf_model.py``); "auto": exact
    while the books on enough shelves are at most ``shelf_model_max_books``, else neighbourhood. On goodbooks'
    validation readers neighbourhood scores Recall@20 0.1815 / NDCG@20 0.1245 against exact's 0.1829 / 0.1244."""
    shelf_model_neighbours: int = 200
    """The neighbourhood solver: how many books each book's weights are solved on."""
    shelf_model_out_neighbours: int = 500
    """The neighbourhood solver: how many of a book's largest (positive) weights it keeps and serving sums."""
    shelf_model_tail_selection_readers: int = 2000
    """The neighbourhood solver chooses its tail blend and tail scale (below) per catalogue: it holds a fifth of
    this many training readers' shelves out of the fit (at most a tenth of those with 5 books or more; fewer than
    100 choose nothing) and keeps the pair of ``shelf_model.TAIL_BLENDS`` × ``TAIL_SCALES`` that finds their
    held-out books best, if clearly better than none (Recall@20 among all books plus among the tail ranked apart;
    ``shelf_model.choose_tail_blend``). No fixed pair does both: 1 / 0.1 finds planted tail tastes as well as
    item-kNN but costs goodbooks 5 % of Recall@20, 0.03 / 1 keeps goodbooks and finds half as many; chosen,
    goodbooks keeps no blend (0.990× the exact solver's Recall@20) and the planted catalogue takes item-kNN's votes
    (0.96–0.97× item-kNN's tail Recall@20; BENCHMARKS.md §16). 0: the fixed ``shelf_model_tail_blend`` and
    ``shelf_model_tail_scale``, nothing held out."""
    shelf_model_tail_blend: float = 0.0
    """With ``shelf_model_tail_selection_readers`` 0, the neighbourhood solver's tail blend: each book's weight for
    a tail book (outside the most shelved books holding half the shelf entries) gains this × their cosine by
    shelves when the tail book is among its ``shelf_model_tail_neighbours`` most similar books — item-kNN's vote,
    blended in for the tail (0: none)."""
    shelf_model_tail_neighbours: int = 100
    """The neighbourhood solver's tail blend: how many of a book's most cosine-similar books it votes for (the tail
    ones among them)."""
    shelf_model_tail_scale: float = 1.0
    """With ``shelf_model_tail_selection_readers`` 0, the neighbourhood solver's tail scale: every tail book's
    column (its weights and the blend's votes) is multiplied by this, so that the blend reorders the tail without
    pushing head books out of a shelf's suggestions (1: none)."""
    shelf_model_shelf_kinds: tuple[str, ...] = ("want-to-read",)
    """Kinds of shelves the shelf model learns from fully (the goodbooks bar's want-to-read shelves)."""
    shelf_model_other_shelves_weight: float = 0.1
    """Each reader's other shelves together make one more shelf counting this much (0 leaves them out): gives up
    1 % on want-to-read shelves for 40 % on whole ones (Recall@20 0.258 against 0.184)."""

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
    for name, bound in BOUNDS.items():
        value = getattr(params, name)
        if not bound.admits(value):
            raise TrainingParamInvalid(name, f"expected {bound.expected()}, got {value!r}")
    for name in ("removed_links", "removed_link_patterns", "shelf_model_shelf_kinds"):
        value = getattr(params, name)
        if not (isinstance(value, tuple) and all(isinstance(item, str) for item in value)):
            raise TrainingParamInvalid(name, f"expected a tuple of strings, got {value!r}")
    if not isinstance(params.extra, dict):
        raise TrainingParamInvalid("extra", f"expected a dict, got {params.extra!r}")
