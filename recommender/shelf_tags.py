"""Which reader tags name a reader's shelf rather than the book ("to-read", "my-favorites", "5-star"), for the pages.

Training's removal list (``recommender.training.params``) holds the common ones; it keeps the rarer tags of the same
kinds because leaving them out measured slightly worse. A page describing the book shows neither: this is the
removal list's rule with those rarer kinds added."""
import re

from books.text import normalise_link_name
from recommender.training.dataset import removed_link_matcher
from recommender.training.params import TrainingParams

_is_on_removal_list = removed_link_matcher(TrainingParams())
_SHELF_LIKE = re.compile(
    r"my-.+"  # "my-favorites", "my-books", "my-bookshelf": a reader's own shelf
    r"|(all-time-|favou?rite-|top-)?(fav|favs|fave|faves|favou?rites?|favou?rite-books?|loved|love-it|best-ever)"
    r"|(\d|one|two|three|four|five)(-and-a-half|\.5)?-stars?"  # "5-star", "4-stars", "five-stars"
    r"|(re-?read|read)-(more-than-once|again|twice|multiple-times|it-again)|re-?reads?"
    r"|(read-)?\d{4}(-books?|-reads?|-reading)?|books-(read-in-)?\d{4}"  # "2015-books", "books-2016", "2014"
    r"|(to-read|tbr|wish-?list|wishlist|to-buy|owned|own)-.+"
)


def is_shelf_tag(name: str) -> bool:
    """Whether a link name (any case or spacing) names a reader's shelf, format or rating rather than the book."""
    name = normalise_link_name(name)
    return _is_on_removal_list(name) or _SHELF_LIKE.fullmatch(name) is not None
