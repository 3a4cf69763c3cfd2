"""One spelling per genre, country, author and language, whichever source a book comes from.

Pure functions of the displayed text, applied by both importers and by the data migration that cleans
catalogues imported before them. Each is idempotent: normalising a normalised value changes nothing.
"""
from __future__ import annotations

import re

GENRE_SPELLINGS = {
    "sci-fi": "science fiction", "science-fiction": "science fiction", "non fiction": "non-fiction",
    "young-adult": "young adult", "encyclopaedia": "encyclopedia", "swords and sorcery": "sword and sorcery",
}
"""Other spellings of words within a genre (lowercased) → Wikipedia's: "Science-fiction novel" → "Science fiction
novel", "Reference encyclopaedia" → "Reference encyclopedia". ("&" is read as "and" before.)"""

GENRE_ALIASES = {
    "nonfiction": "Non-fiction", "humor": "Humour", "essays": "Essay", "memoirs": "Memoir", "novels": "Novel",
    "novellas": "Novella", "historical novels": "Historical novel", "mystery novels": "Mystery novel",
    "science fiction novels": "Science fiction novel", "children's books": "Children's book",
    "fairy tales": "Fairy tale", "role-playing games": "Role-playing game", "play": "Plays",
    "young adults": "Young adult", "young adult's": "Young adult",
}
"""Other names of a whole genre (lowercased, ``GENRE_SPELLINGS`` applied) → its name as Wikipedia's article titles
write it: plurals of genres whose singular the data also uses ("Essays" → "Essay"). "Plays" stays plural as the
goodbooks importer's ``GENRE_OF_TAG`` names it."""

PROPER_NOUN_WORDS = frozenset({
    "African", "American", "Arthurian", "Asian", "Australian", "Biblical", "British", "Buddhist", "Canadian",
    "Chinese", "Christian", "Edwardian", "Elizabethan", "Georgian", "Gothic", "Greek", "Hindu", "Holocaust",
    "Indian", "Irish", "Islamic", "Jewish", "Latin", "Moroccan", "Regency", "Renaissance", "Restoration",
    "Ruritanian", "Scottish", "Southern", "Soviet", "Victorian", "War", "Welsh", "Western", "World",
})
"""Words of genre names that are (or come from) proper nouns: kept capitalised where a source capitalised them
("World War II novel", "African-American literature", "English Renaissance theatre", "Space Western"), as are the
languages of ``LANGUAGE_OF_CODE``. Other words after the first are lowercased."""

COUNTRIES = (
    "Albania", "Ancient Rome", "Argentina", "Armenia", "Australia", "Austria", "Bangladesh", "Belgium", "Brazil",
    "British India", "Canada", "Cape Verde", "Chile", "China", "Colombia", "Czechoslovakia", "Denmark", "Egypt",
    "England", "Estonia", "Finland", "France", "Germany", "Greece", "Hong Kong", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Ireland", "Israel", "Italy", "Japan", "Kingdom of Burma", "Kingdom of England", "Mexico",
    "Nepal", "Netherlands", "New Zealand", "Nigeria", "Norway", "Pakistan", "Peru", "Philippines", "Poland",
    "Portugal", "Romania", "Russia", "Russian Empire", "Scotland", "Singapore", "South Africa", "South Korea",
    "Soviet Union", "Spain", "Sri Lanka", "Sweden", "Switzerland", "Turkey", "Uganda", "United Kingdom",
    "United States", "Wales", "West Germany", "Yugoslavia",
)
"""Countries as Wikipedia names them: every one that at least 10 books of the full Wikipedia dump give as their
whole country (Georgia left out: it is also a US state), and Wales. England, Scotland and Wales stay themselves."""

COUNTRY_ALIASES = {
    "us": "United States", "usa": "United States", "united states of america": "United States",
    "the united states": "United States", "the united states of america": "United States", "america": "United States",
    "uk": "United Kingdom", "great britain": "United Kingdom", "britain": "United Kingdom",
    "ussr": "Soviet Union", "union of soviet socialist republics": "Soviet Union",
    "the netherlands": "Netherlands", "holland": "Netherlands", "people's republic of china": "China",
    "australian": "Australia",
}
"""Other names of a country (lowercased, dots removed: "U.S.A." → "usa") → its name in ``COUNTRIES``."""
_COUNTRY_OF_KEY = {name.lower(): name for name in COUNTRIES} | COUNTRY_ALIASES

LANGUAGE_OF_CODE = {
    "en": "English", "eng": "English", "ara": "Arabic", "dan": "Danish", "fil": "Filipino", "fre": "French",
    "ger": "German", "ind": "Indonesian", "ita": "Italian", "jpn": "Japanese", "mul": "Multiple languages",
    "nl": "Dutch", "nor": "Norwegian", "per": "Persian", "pol": "Polish", "por": "Portuguese", "rum": "Romanian",
    "rus": "Russian", "spa": "Spanish", "swe": "Swedish", "tur": "Turkish", "vie": "Vietnamese",
}
"""Every language code of goodbooks-10k's books.csv (a regional variant, "en-US", reads as its language)."""
_LANGUAGE_NAMES = sorted(set(LANGUAGE_OF_CODE.values()), key=len, reverse=True)
_CAPITALISED_WORDS = PROPER_NOUN_WORDS | {name for name in _LANGUAGE_NAMES if " " not in name}

_GENRE_SEPARATOR = re.compile(r"\s*[,;/]\s*")
_COUNTRY_SEPARATOR = re.compile(r"\s*(?:[,;/&]|\band\b)\s*", re.IGNORECASE)
_REMARK = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_BRACKETS = re.compile(r"[()\[\]]")
_AMPERSAND = re.compile(r"(?<!\S)&(?!\S)")
_GENRE_SPELLING = re.compile(
    r"(?<![\w'-])(?:" + "|".join(map(re.escape, GENRE_SPELLINGS)) + r")(?![\w'-])", re.IGNORECASE)
_LANGUAGE_CODE = re.compile(r"([a-z]{2,3})(?:-[a-z]{2})?", re.IGNORECASE)
_LANGUAGE_SUFFIX = re.compile(r"\s+language$", re.IGNORECASE)
_LEADING_LANGUAGE = re.compile(r"(" + "|".join(map(re.escape, _LANGUAGE_NAMES)) + r")(?!\w)", re.IGNORECASE)
# An initial glued to what follows ("J.R.R. Tolkien"); "St.", "Ph.D." are not initials (a letter comes before).
_INITIAL = re.compile(r"(?<!\w)([^\W\d_])\.(?=[^\W\d_])")
# A whole comma-separated entry in square brackets ("[Joshua Mowll]"): editorial brackets round a name.
_BRACKETED_ENTRY = re.compile(r"(?:^|(?<=,))\s*\[([^\[\]]*)\]\s*(?=,|$)")
_AUTHOR_PREFIX = re.compile(r"^(?:(?:and|&|with|(?:edited|compiled|translated)?\s*by)(?:\s+|$))+", re.IGNORECASE)
_AUTHOR_JOINER = re.compile(r"\s+(?:and|&|with)\s+", re.IGNORECASE)
_ET_AL = re.compile(r"(?:\s+et\.? al\.?)+$", re.IGNORECASE)
# Whole comma-separated entries that are not a person: "et al.", "hundreds of other contributors", roles, degrees.
_NOT_AN_AUTHOR = re.compile(
    r"et\.? al\.?|(?:\w+ (?:of )?)?others?(?: contributors)?|eds?\.?|editors?|foreword|introduction|translator"
    r"|illustrator|m\.\s?d\.?|ph\.?\s?d\.?",
    re.IGNORECASE,
)
_NAME_SUFFIX = re.compile(r"(?:jr|sr|ii|iii|iv)\.?", re.IGNORECASE)
_SURNAME = re.compile(r"[^\W\d_][\w'’-]*")
_FORENAME = re.compile(r"[^\W\d_][\w'’-]*(?:\s+[A-Z]\.)*")


def normalise_genres(text: str) -> str:
    """Genres in sentence case, comma-separated, each once: "horror; Science Fiction" → "Horror, Science fiction".

    Remarks in parentheses or square brackets go ("Adventure[mystery]" → "Adventure"), so do stray brackets; "&"
    reads "and"; ``GENRE_SPELLINGS`` and ``GENRE_ALIASES`` give Wikipedia's name ("Swords & sorcery" → "Sword and
    sorcery"). Words after the first, and the parts of hyphenated words, are lowercased unless written in capitals
    ("LGBT") or a capitalised word of ``PROPER_NOUN_WORDS`` or a language ("World War II novel").
    """
    genres: list[str] = []
    for entry in _GENRE_SEPARATOR.split(_BRACKETS.sub("", _without_remarks(text))):
        genre = _genre_spelling(entry)
        if genre and genre not in genres:
            genres.append(genre)
    return ", ".join(genres)


def normalise_country(text: str) -> str:
    """One country by its ``COUNTRIES`` name: "USA" and "Berkeley, California, USA" → "United States".

    A value naming several ("Author: United States, First edition: England") gives the first country it names;
    a value naming none is kept as written.
    """
    text = " ".join(text.split())
    without_remarks = _without_remarks(text)
    country = _country_name(without_remarks)
    if country:
        return country
    for part in _COUNTRY_SEPARATOR.split(without_remarks):
        if country := _country_name(part.rpartition(":")[2]):
            return country
    return text


def normalise_authors(text: str) -> str:
    """A comma-separated list of people: "Jesse Decker, Michelle Lyons, and David Noonan" keeps three names.

    Initials are spaced as Wikipedia spaces them ("J.R.R. Tolkien" → "J. R. R. Tolkien"); square brackets round a
    name go ("[Joshua Mowll]"), other bracketed remarks with them ("F. R. Scott, ed. [anon.]").
    "and"/"with"/"edited by" before a name and remarks in parentheses go; "et al.", "and others", roles
    ("ed.", "foreword") and degrees ("M.D.") are dropped; "Jr." stays with its name ("Harry Warner Jr.");
    "A and B" is two authors when both have a forename and a surname ("Arkady and Boris Strugatsky" is one
    entry); a list alternating one-word surnames and forenames ("Kimball, Charles", "Baker, Richard, Carriker,
    Joseph D.") is read as inverted names and turned around.
    """
    text = _without_remarks(_BRACKETED_ENTRY.sub(r"\1", text)).replace("[", "").replace("]", "")
    text = _INITIAL.sub(lambda match: f"{match.group(1)}. " if match.group(1).isupper() else match.group(0), text)
    entries: list[str] = []
    for entry in text.split(","):
        entry = _author_entry(entry)
        if not entry:
            continue
        if entries and _NAME_SUFFIX.fullmatch(entry):
            entries[-1] = f"{entries[-1]} {entry}"
        else:
            entries.append(entry)
    authors = list(dict.fromkeys(author for entry in entries for author in _joined_authors(entry)))
    if _is_inverted(authors):
        authors = [f"{forename} {surname}" for surname, forename in zip(authors[::2], authors[1::2])]
    return ", ".join(authors)


def normalise_language(text: str) -> str:
    """A language by its English name: "eng"/"en-US" → "English", "Portuguese language" → "Portuguese".

    A value that starts with a name of ``LANGUAGE_OF_CODE`` is that language ("Japanese published in English on
    February 1, 2007" → "Japanese", "English / French" → "English"); codes not in it are kept as written.
    """
    text = " ".join(text.split())
    code = _LANGUAGE_CODE.fullmatch(text)
    if code and code.group(1).lower() in LANGUAGE_OF_CODE:
        return LANGUAGE_OF_CODE[code.group(1).lower()]
    if name := _LEADING_LANGUAGE.match(text):
        return next(language for language in _LANGUAGE_NAMES if language.lower() == name.group(1).lower())
    return _LANGUAGE_SUFFIX.sub("", text)


def _genre_spelling(text: str) -> str:
    text = _AMPERSAND.sub("and", " ".join(text.split()).strip(" ."))
    text = _GENRE_SPELLING.sub(lambda match: GENRE_SPELLINGS[match.group(0).lower()], text)
    if not text:
        return ""
    alias = GENRE_ALIASES.get(text.lower())
    if alias:
        return alias
    first, *rest = text.split()
    return " ".join([_word_case(first, first_word=True), *(_word_case(word) for word in rest)])


def _word_case(word: str, *, first_word: bool = False) -> str:
    """``word`` as sentence case writes it, each part of a hyphenated word alike ("African-American")."""
    parts = word.split("-")
    for index, part in enumerate(parts):
        if (part.isupper() and len(part) > 1) or (part[:1].isupper() and part.capitalize() in _CAPITALISED_WORDS):
            parts[index] = part if part.isupper() else part.capitalize()
        elif first_word and index == 0:
            initial = part[:1].upper()
            parts[index] = (initial if len(initial) == 1 else part[:1]) + part[1:].lower()  # "ß".upper() is "SS"
        else:
            parts[index] = part.lower()
    return "-".join(parts)


def _country_name(text: str) -> str | None:
    return _COUNTRY_OF_KEY.get(" ".join(text.replace(".", "").lower().split()))


def _is_inverted(entries: list[str]) -> bool:
    """Whether entries alternate one-word surnames and forenames: "Baker, Richard, Carriker, Joseph D."."""
    return (len(entries) % 2 == 0 and len(entries) > 0
            and all(_SURNAME.fullmatch(surname) for surname in entries[::2])
            and all(_FORENAME.fullmatch(forename) for forename in entries[1::2]))


def _joined_authors(entry: str) -> list[str]:
    """The people of "Maj Sjöwall and Per Wahlöö"; "Arkady and Boris Strugatsky" stays one entry."""
    names = [name for part in _AUTHOR_JOINER.split(entry) if (name := _author_entry(part))]
    if len(names) > 1 and any(len(name.split()) == 1 for name in names):
        return [entry]
    return names


def _author_entry(text: str) -> str:
    """``text`` without "and"/"edited by" before it and "et al." after it; blank if it names nobody."""
    entry = _ET_AL.sub("", _AUTHOR_PREFIX.sub("", " ".join(text.split()))).strip()
    return "" if _NOT_AN_AUTHOR.fullmatch(entry) else entry


def _without_remarks(text: str) -> str:
    """``text`` without its remarks in parentheses or square brackets, nested ones included."""
    while (stripped := _REMARK.sub("", text)) != text:
        text = stripped
    return text
