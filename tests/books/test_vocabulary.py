"""One vocabulary for reader tags and wikilinks: a wikilink joins the reader tag that names the same thing, spelt
otherwise or in the plural; never a tag another tag, a plural wikilink a singular tag, or a link both sources use."""
import pytest

from books.models import Book, BookLink, Link
from books.vocabulary import is_common_noun, link_joins, singular_term, vocabulary_term


def test_a_term_is_a_name_with_spelling_folded():
    assert vocabulary_term("World War II") == vocabulary_term("world-war-ii") == "world war ii"
    assert vocabulary_term("Children's literature") == vocabulary_term("children-s-literature")
    assert vocabulary_term("Sword & sorcery") == vocabulary_term("sword-and-sorcery") == "sword and sorcery"
    assert vocabulary_term("Rússia") == vocabulary_term("russia") == "russia"
    assert vocabulary_term("historical_fiction") == "historical fiction"
    assert vocabulary_term("£") == vocabulary_term("-") == ""


def test_only_a_last_word_of_four_letters_or_more_that_is_a_plural_is_made_singular():
    assert singular_term("picture books") == "picture book"
    assert singular_term("werewolves") == "werewolf"
    assert singular_term("short stories") == "short story"
    assert singular_term("dystopia") is None  # not a plural ("dystopium" would be a wrong singular)
    assert singular_term("world war ii") is None
    assert singular_term("cbs") is None  # too short: an acronym as likely as a plural
    assert singular_term("19th centuries") == "19th century"
    assert singular_term("1990s") is None


def _book(external_id: str, *, tags=(), wikilinks=()) -> Book:
    """A book of ``external_id``'s source with reader tags and wikilinks, each a ``Link`` shared by name as the
    importers share them."""
    source = external_id.split(":")[0]
    book = Book.objects.create(external_id=external_id, source=source, title=external_id)
    for kind, names in ((Link.Kind.TAG, tags), (Link.Kind.WIKILINK, wikilinks)):
        for name in names:
            link, _ = Link.objects.get_or_create(name=" ".join(name.lower().split()),
                                                 defaults={"display_name": name, "kind": kind})
            BookLink.objects.create(book=book, link=link)
    return book


def _joins() -> dict[str, tuple[str, str]]:
    """{wikilink name: (tag name, rule)}."""
    names = dict(Link.objects.values_list("id", "name"))
    return {names[wikilink]: (names[join.tag_id], join.rule) for wikilink, join in link_joins().items()}


@pytest.mark.django_db
def test_a_wikilink_joins_the_tag_of_its_spelling_or_its_plural_only_across_sources():
    _book("wikipedia:The History of The Hobbit", wikilinks=["Middle-earth", "World War II", "vampire",
                                                             "Science fiction", "Amazons", "Picture book",
                                                             "Rolling Stone", "Berkshire", "Romance novel"])
    _book("wikipedia:Dracula", wikilinks=["vampire", "Dystopia", "Werewolf (folklore)"])
    _book("goodbooks:7", tags=["middle-earth", "world-war-ii", "vampires", "science-fiction", "sci-fi",
                               "rolling-stones", "berkshires", "romance-novels"])
    _book("goodbooks:8", tags=["vampires", "science-fiction", "amazon", "dystopian", "picture-books"])
    _book("goodbooks:9", tags=["werewolves", "werewolf", "picture-book", "science-fiction"])

    assert _joins() == {
        "world war ii": ("world-war-ii", "spelling"),
        "science fiction": ("science-fiction", "spelling"),
        "vampire": ("vampires", "plural"),
        "romance novel": ("romance-novels", "plural"),
        # The term's own spelling first, however many books the plural tag has.
        "picture book": ("picture-book", "spelling"),
    }
    # "middle-earth" is one link already (the same name); "Amazons" is a plural title, never made singular;
    # "Rolling Stone" and "Berkshire" are written as names, which take no plural tag; "Dystopia" is not
    # "dystopian"; "sci-fi" no wikilink spells; "werewolves" and "werewolf" stay two tags.


def test_a_common_noun_is_lowercase_but_for_its_first_letter_and_one_word_wholly():
    assert is_common_noun("Romance novel") and is_common_noun("picture book") and is_common_noun("demon")
    assert not is_common_noun("Rolling Stone") and not is_common_noun("U.S. President")
    assert not is_common_noun("Berkshire") and not is_common_noun("CHERUB")


@pytest.mark.django_db
def test_a_link_both_sources_use_is_a_meeting_point_already_and_joins_nothing_more():
    # The goodbooks tag "vampire" shares the wikilink's Link: the plural tag does not join it (that would join two
    # tags).
    _book("wikipedia:Dracula", wikilinks=["Vampire"])
    _book("goodbooks:8", tags=["vampire"])
    _book("goodbooks:9", tags=["vampires"])
    # A book merged from both sources: its goodbooks pairs are tags even where the link is a wikilink by kind.
    merged = _book("wikipedia:Carmilla", wikilinks=["Gothic fiction"])
    goodbooks_pair = Link.objects.create(name="gothic", display_name="gothic", kind=Link.Kind.WIKILINK)
    BookLink.objects.create(book=merged, link=goodbooks_pair, source=Book.Source.GOODBOOKS)
    _book("wikipedia:The Castle of Otranto", wikilinks=["Gothic"])

    assert _joins() == {}


@pytest.mark.django_db
def test_the_tag_with_most_books_takes_every_wikilink_of_the_term():
    _book("wikipedia:A", wikilinks=["Coming of age", "Coming-of-age"])
    for number in range(3):
        _book(f"goodbooks:{number + 1}", tags=["coming_of_age"])
    _book("goodbooks:9", tags=["coming-of-age!"])
    assert _joins() == {"coming of age": ("coming_of_age", "spelling"), "coming-of-age": ("coming_of_age", "spelling")}
