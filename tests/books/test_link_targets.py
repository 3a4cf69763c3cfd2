"""Which book a wikilink names: by the catalogue's Wikipedia identifiers, or by a whole title its author corroborates;
never a title two books share, a bare title few of its linkers back, or a book's link to itself."""
import pytest

from books.importers.authors import author_key
from books.link_targets import link_targets, whole_title_key
from books.models import Author, Book, BookIdentifier, BookLink, Contribution, Link

pytestmark = pytest.mark.django_db


def _person(name: str, *aliases: str) -> Author:
    return Author.objects.create(name=name, key=author_key(name), aliases=list(aliases))


def _book(external_id: str, title: str, *, links=(), people=(), metadata=None) -> Book:
    """A book of ``external_id``'s source linking ``links`` (wikilinks, as written), by ``people``; an article carries
    its page as its ``wikipedia:`` identifier, as the importer gives it."""
    source, value = external_id.split(":", 1)
    book = Book.objects.create(external_id=external_id, source=source, title=title, metadata=metadata or {})
    BookIdentifier.objects.create(book=book, scheme=source, value=value)
    for name in links:
        link, _ = Link.objects.get_or_create(name=" ".join(name.lower().split()),
                                             defaults={"display_name": name, "kind": Link.Kind.WIKILINK})
        BookLink.objects.create(book=book, link=link)
    for position, person in enumerate(people):
        Contribution.objects.create(book=book, author=person, role=Contribution.Role.AUTHOR, position=position)
    return book


def _targets() -> dict[str, tuple[int, str]]:
    """{link name: (book id, method)}."""
    names = dict(Link.objects.values_list("id", "name"))
    return {names[link_id]: (target.book_id, target.method) for link_id, target in link_targets().items()}


def test_a_whole_title_is_the_book_when_the_books_linking_it_name_its_author():
    tolkien = _person("J.R.R. Tolkien", "J. R. R. Tolkien")
    hobbit = _book("goodbooks:7", "The Hobbit", people=[tolkien],
                   metadata={"original_title": "The Hobbit or There and Back Again"})
    # Its original title is "The Hobbit" too, but The Hobbit's own title comes first.
    _book("goodbooks:466", "The Hobbit: Graphic Novel", people=[tolkien], metadata={"original_title": "The Hobbit"})
    _book("wikipedia:The History of The Hobbit", "The History of The Hobbit",
          links=["The Hobbit", "J. R. R. Tolkien", "Middle-earth"], people=[_person("John D. Rateliff")])
    _book("wikipedia:Tolkien and the Great War", "Tolkien and the Great War", links=["The Hobbit", "World War I"])
    # A series suffix and the original title are the book's titles too.
    trilogy = _book("goodbooks:189", "The Lord of the Rings (The Lord of the Rings, #1-3)", people=[tolkien])
    _book("wikipedia:The Annotated Hobbit", "The Annotated Hobbit", people=[tolkien],
          links=["The Lord of the Rings", "The Hobbit or There and Back Again"])

    targets = _targets()

    # One of the two articles linking "The Hobbit" names Tolkien (a wikilink to one of his spellings): half is enough.
    assert targets["the hobbit"] == (hobbit.pk, "title-author")
    # The Annotated Hobbit is Tolkien's own book: its author names him.
    assert targets["the lord of the rings"] == (trilogy.pk, "title-author")
    assert targets["the hobbit or there and back again"] == (hobbit.pk, "title-author")
    assert "j. r. r. tolkien" not in targets and "middle-earth" not in targets


def test_an_articles_page_is_its_book_by_identifier_but_not_through_its_own_link_alone():
    orwell = _person("George Orwell")
    nineteen = _book("wikipedia:Nineteen Eighty-Four", "Nineteen Eighty-Four", people=[orwell],
                     links=["Nineteen Eighty-Four", "George Orwell"])  # its infobox links its own page
    _book("wikipedia:Brave New World", "Brave New World", links=["Nineteen Eighty-Four", "dystopia"])
    loner = _book("wikipedia:Animal Farm", "Animal Farm", people=[orwell], links=["Animal Farm"])

    targets = _targets()

    # The link's page is the article's identifier: no author needed.
    assert targets["nineteen eighty-four"] == (nineteen.pk, "identifier")
    # A book linking only itself names nothing another book could share.
    assert "animal farm" not in targets
    assert loner.pk not in {book_id for book_id, _ in targets.values()}


def test_a_title_two_books_share_names_neither():
    austen = _person("Jane Austen")
    _book("goodbooks:100", "Emma", people=[austen])
    _book("goodbooks:101", "Emma (Emma, #1)", people=[_person("Someone Else")])
    _book("wikipedia:Pride and Prejudice", "Pride and Prejudice", people=[austen], links=["Emma", "Jane Austen"])
    _book("goodbooks:102", "It", people=[_person("Stephen King")])
    _book("goodbooks:103", "It: A Novel of Unease", people=[_person("Somebody Else")])
    _book("wikipedia:Pronouns", "Pronouns", links=["It"])

    assert _targets() == {}


def test_a_bare_title_few_linkers_back_a_subtitle_a_dropped_article_or_another_page_is_not_the_book():
    rutherfurd = _person("Edward Rutherfurd")
    _book("goodbooks:5182", "London", people=[rutherfurd])
    _book("wikipedia:Sarum (novel)", "Sarum", people=[rutherfurd], links=["London", "Edward Rutherfurd"])
    for title in ("Oliver Twist", "Mrs Dalloway", "Brick Lane"):  # novels set in the city, not by him
        _book(f"wikipedia:{title}", title, links=["London"])
    _book("goodbooks:968", "Cleopatra: A Life", people=[_person("Stacy Schiff")])
    _book("goodbooks:4925", "Nation", people=[_person("Terry Pratchett")])
    _book("wikipedia:Mort", "Mort", links=["Cleopatra", "The Nation", "Stacy Schiff", "Terry Pratchett"])
    # A book with a Wikipedia page is named by that page alone: the bare title is the character's page.
    howard = _person("Robert E. Howard")
    _book("wikipedia:Conan the Barbarian (1955 collection)", "Conan the Barbarian (1955 collection)", people=[howard])
    _book("wikipedia:The Phoenix on the Sword", "The Phoenix on the Sword", people=[howard],
          links=["Conan the Barbarian", "Artemis Fowl (series)"])
    _book("goodbooks:1", "Artemis Fowl (Artemis Fowl, #1)", people=[howard])  # a series is not its first book
    # Readers tag Patterson's Alex Cross novels "cross", the name of an article's wikilink: tags are no wikilinks.
    patterson = _person("James Patterson")
    _book("goodbooks:3321", "Cross (Alex Cross, #12)", people=[patterson])
    _book("wikipedia:He Chose the Nails", "He Chose the Nails", links=["Cross"])
    for number in (13, 14):
        BookLink.objects.create(book=_book(f"goodbooks:{number}", f"Alex Cross {number}", people=[patterson]),
                                link=Link.objects.get(name="cross"))

    assert _targets() == {}


def test_a_disambiguator_must_say_a_written_work_and_may_name_the_author():
    herbert = _person("Frank Herbert")
    dune = _book("goodbooks:117", "Dune (Dune Chronicles, #1)", people=[herbert])
    _book("wikipedia:Dune Messiah", "Dune Messiah", people=[herbert], links=["Dune (novel)", "Dune (film)"])
    _book("wikipedia:Arrakis", "Arrakis", links=["Dune (Herbert novel)", "Dune (1965 novel)"])
    _book("wikipedia:Deserts", "Deserts", links=["Dune (TV series)", "Dune (landform)"])

    targets = _targets()

    assert targets["dune (novel)"] == (dune.pk, "title-author")  # Dune Messiah is by Herbert too
    assert targets["dune (herbert novel)"] == (dune.pk, "title-author")  # the page title names him
    assert "dune (1965 novel)" not in targets  # a novel, but nobody linking it names Herbert
    assert not {"dune (film)", "dune (tv series)", "dune (landform)"} & set(targets)


def test_a_whole_title_key_drops_a_trailing_bracket_and_keeps_articles():
    assert whole_title_key("The Hobbit (Middle-earth, #0)") == "the hobbit"
    assert whole_title_key("Les Misérables") == "les miserables"
    assert whole_title_key("Click, Clack, Moo: Cows That Type") == "click clack moo cows that type"
    assert whole_title_key("Nation") != whole_title_key("The Nation")
