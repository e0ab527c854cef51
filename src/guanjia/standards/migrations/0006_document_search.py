"""The full-text index of the document library (guanjia.standards.search, "documents").

One row per document in `standards_document_search`: its id is the document's, `head` the
jieba words of its title and tags, `body` the words of title, tags and extracted text — the
same segmentation as the standards index. The database full-text-indexes the body the same
way as `standards_search`: SQLite an external-content FTS5 table (kept in step by triggers,
a document being one row), PostgreSQL a generated `to_tsvector('simple', body)` with a GIN
index (a search runs over every document in the caller's scope, not over a few ids).

No foreign key to the document (as for the standards index); a post_delete receiver drops
the row, and every hit is joined back to the caller's documents. Documents already stored
are indexed by `reindex_documents()` (also part of `reindex_all()` and of a restore).
"""

from django.db import migrations

FORWARD = {
    "sqlite": [
        "CREATE TABLE standards_document_search ("
        "id integer PRIMARY KEY, head text NOT NULL, body text NOT NULL)",
        "CREATE VIRTUAL TABLE standards_document_search_fts USING fts5("
        "body, content='standards_document_search', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        "CREATE TRIGGER standards_document_search_ai AFTER INSERT ON standards_document_search "
        "BEGIN INSERT INTO standards_document_search_fts(rowid, body) "
        "VALUES (new.id, new.body); END",
        "CREATE TRIGGER standards_document_search_ad AFTER DELETE ON standards_document_search "
        "BEGIN INSERT INTO standards_document_search_fts"
        "(standards_document_search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
        "CREATE TRIGGER standards_document_search_au AFTER UPDATE ON standards_document_search "
        "BEGIN INSERT INTO standards_document_search_fts"
        "(standards_document_search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO standards_document_search_fts(rowid, body) VALUES (new.id, new.body); END",
    ],
    "postgresql": [
        "CREATE TABLE standards_document_search (id bigint PRIMARY KEY, head text NOT NULL, "
        "body text NOT NULL, "
        "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)",
        "CREATE INDEX standards_document_search_tsv ON standards_document_search USING GIN (tsv)",
    ],
}

BACKWARD = {
    "sqlite": [
        "DROP TABLE standards_document_search_fts",
        "DROP TABLE standards_document_search",
    ],
    "postgresql": ["DROP TABLE standards_document_search"],
}


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        if vendor not in statements:
            raise NotImplementedError(f"document search: no index for {vendor}")
        for sql in statements[vendor]:
            schema_editor.execute(sql)

    return run


def _index_existing(apps, schema_editor):
    """Documents uploaded before this migration get their rows (words as of now)."""
    from guanjia.standards.search import document_row

    Document = apps.get_model("standards", "Document")
    rows = [
        document_row(pk, title, tags, text)
        for pk, title, tags, text in Document.objects.values_list("pk", "title", "tags", "text")
    ]
    with schema_editor.connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO standards_document_search (id, head, body) VALUES (%s, %s, %s)", rows
        )


class Migration(migrations.Migration):
    dependencies = [("standards", "0005_experts")]

    operations = [
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
        migrations.RunPython(_index_existing, migrations.RunPython.noop),
    ]
