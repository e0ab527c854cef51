"""The search index of the standards library (guanjia.standards.search).

Three tables, the same columns on both databases:

* `standards_search`: a row per standard header, clause and term, its id
  `standard id << 20 | position`, its body the space-joined jieba words, its text what a
  snippet shows. The database full-text-indexes the body: SQLite an external-content FTS5
  table, PostgreSQL a generated tsvector column (matched only over the rows of a few
  standards at a time, found by standard_id, so it needs no GIN index).
* `standards_search_word`: each standard's words once, with a weight; the primary key
  (word, standard_id) makes one word's standards a range scan.
* `standards_search_df`: in how many standards each word is (the row '' counts the
  standards), for BM25's idf without counting at query time.

No foreign key to the standard (the test suite's flush truncates only Django's tables); the
index follows deletions through a post_delete receiver, and every hit is joined back to the
caller's standards.
"""

from django.db import migrations

ROWS = """
CREATE TABLE standards_search (
    id {pk} PRIMARY KEY,
    standard_id bigint NOT NULL,
    kind varchar(8) NOT NULL,
    number varchar(32) NOT NULL,
    body text NOT NULL,
    text text NOT NULL{extra}
)
"""

DF = "CREATE TABLE standards_search_df (word varchar(64) PRIMARY KEY, n integer NOT NULL)"

FORWARD = {
    "sqlite": [
        ROWS.format(pk="integer", extra=""),  # integer PRIMARY KEY: the rowid itself
        "CREATE VIRTUAL TABLE standards_search_fts USING fts5("
        "body, content='standards_search', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        "CREATE TABLE standards_search_word ("
        "word varchar(64) NOT NULL, standard_id bigint NOT NULL, weight real NOT NULL, "
        "PRIMARY KEY (word, standard_id)) WITHOUT ROWID",
        "CREATE INDEX standards_search_word_standard ON standards_search_word (standard_id)",
        DF,
    ],
    "postgresql": [
        ROWS.format(
            pk="bigint",
            extra=",\n    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED",
        ),
        "CREATE INDEX standards_search_standard ON standards_search (standard_id)",
        # COLLATE "C": byte order, so [prefix, prefix + U+10FFFF) is every word with a prefix.
        'CREATE TABLE standards_search_word (word varchar(64) COLLATE "C" NOT NULL, '
        "standard_id bigint NOT NULL, weight real NOT NULL, "
        "PRIMARY KEY (word, standard_id) INCLUDE (weight))",
        "CREATE INDEX standards_search_word_standard ON standards_search_word (standard_id)",
        DF,
    ],
}

BACKWARD = {
    "sqlite": [
        "DROP TABLE standards_search_df",
        "DROP TABLE standards_search_word",
        "DROP TABLE standards_search_fts",
        "DROP TABLE standards_search",
    ],
    "postgresql": [
        "DROP TABLE standards_search_df",
        "DROP TABLE standards_search_word",
        "DROP TABLE standards_search",
    ],
}


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"standards search: no index for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("standards", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
