"""The catalogue's genre vocabulary: a few dozen genres, and the mapping from what sources say to them.

Sources name genres freely: Wikipedia infoboxes ("Fantasy novel", "Young adult thriller science fiction novel",
"Gong'an fiction"), goodbooks readers' genre-like tags ("sci-fi", "ya", read by ``GENRE_OF_TAG`` in the goodbooks
importer), a generic import's subjects. ``genres_of`` reads such a value by the rules of ``RULES``, in order: each
rule is a pattern of the folded value and the genres it gives, so one value can give several ("Young adult thriller
science fiction novel" is Young adult, Science fiction and Thriller & suspense). A value no rule reads gives no
genre (the raw value stays in the book's metadata); "novel"/"fiction" alone gives Fiction.
"""
from __future__ import annotations

import re

from books.text import fold

VOCABULARY = (
    "Adventure", "Alternate history", "Art & design", "Biography & memoir", "Business & economics", "Children's",
    "Classics", "Crime", "Drama & plays", "Dystopian & apocalyptic", "Essays & letters", "Fantasy", "Fiction",
    "Games", "Graphic novels & comics", "Historical fiction", "History", "Horror", "Humour & satire", "LGBT",
    "Literary fiction", "Mystery & detective", "Non-fiction", "Paranormal & supernatural", "Philosophy", "Poetry",
    "Politics & society", "Psychology", "Reference", "Religion & spirituality", "Romance", "Science",
    "Science fiction", "Self-help", "Short stories", "Thriller & suspense", "Travel", "True crime",
    "War & military", "Western", "Young adult",
)
"""Every genre of the catalogue."""

RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"true crime", ("True crime", "Non-fiction")),
    (r"alternate history", ("Alternate history",)),
    (r"science fiction|sci-fi|cyberpunk|steampunk|space western|science fantasy|hard sf", ("Science fiction",)),
    (r"fantas|sword and sorcery|fairy tale|mythology", ("Fantasy",)),
    (r"horror|gothic|ghost", ("Horror",)),
    (r"myster|detective|gong.?an|whodunit", ("Mystery & detective",)),
    (r"(?<!true )crime|noir|narcoliteratura|legal drama", ("Crime",)),
    (r"thriller|suspense|\bspy\b|espionage", ("Thriller & suspense",)),
    (r"romance|chick lit|regency|erotic", ("Romance",)),
    (r"historical|historic\b|georgian|restoration|cromwellian|ruritanian", ("Historical fiction",)),
    (r"adventure|\baction\b|lost world", ("Adventure",)),
    (r"young adult|\bya\b", ("Young adult",)),
    (r"child|juvenile|picture book|middle grade", ("Children's",)),
    (r"short stor|short fiction|novella|anthology", ("Short stories",)),
    (r"poe(m|try)|ballad|canto|lyrics", ("Poetry",)),
    (r"\bplays?\b|drama|theatre|tragedy", ("Drama & plays",)),
    (r"humou?r|comed|comic novel|satire|farce|mock epic|bizarro|absurd", ("Humour & satire",)),
    (r"dystop|apocalyp|utopia", ("Dystopian & apocalyptic",)),
    (r"paranormal|supernatural", ("Paranormal & supernatural",)),
    (r"graphic novel|comics|manga", ("Graphic novels & comics",)),
    (r"biograph|memoir|diary", ("Biography & memoir",)),
    (r"(?<!alternate )\bhistory\b", ("History",)),
    (r"philosoph", ("Philosophy",)),
    (r"religio|christian|theolog|islamic|apologetics|bible|spiritual", ("Religion & spirituality",)),
    (r"(?<!computer )\bscience\b(?! fiction| fantasy)|scientific|linguistic|grammar|computer science|mathemat",
     ("Science",)),
    (r"psycholog|psychiatr|therapy|attachment|trauma", ("Psychology",)),
    (r"politic|social|sociolog|propaganda|cults", ("Politics & society",)),
    (r"business|econom|financ", ("Business & economics",)),
    (r"self.?help", ("Self-help",)),
    (r"travel", ("Travel",)),
    (r"reference|encyclop|dictionary|bibliograph|field guide|text ?book", ("Reference",)),
    (r"\bart\b|photograph|design|music", ("Art & design",)),
    (r"essay|letters|correspondence|criticism|literary analysis", ("Essays & letters",)),
    (r"\bwar\b|military|world war", ("War & military",)),
    (r"western", ("Western",)),
    (r"game", ("Games",)),
    (r"lgbt|\bgay\b|lesbian", ("LGBT",)),
    (r"non.?fiction", ("Non-fiction",)),
    (r"literary fiction|literary realism|realis|modernis|postmodern|bildungsroman|stream of consciousness|"
     r"family saga|naturalis|psychological novel|literature", ("Literary fiction",)),
    (r"classic", ("Classics",)),
)
_RULES = tuple((re.compile(pattern), genres) for pattern, genres in RULES)
_FICTION = re.compile(r"\b(novel|fiction)\b")


def genres_of(value: str) -> list[str]:
    """The vocabulary's genres a source's comma-separated genre value names, in the order first named, each once:
    "Fantasy novel, Science fiction novel" → ["Fantasy", "Science fiction"]."""
    found: list[str] = []
    for entry in (value or "").split(","):
        text = fold(entry)
        if not text:
            continue
        named = [genre for pattern, genres in _RULES if pattern.search(text) for genre in genres]
        if not named and _FICTION.search(text):
            named = ["Fiction"]
        found += [genre for genre in named if genre not in found]
    return found


assert all(genre in VOCABULARY for _, genres in RULES for genre in genres), "a rule names a genre not in VOCABULARY"
