"""The full-text index of the standards library (guanjia.standards.search).

One table, the same columns on both databases: a row per standard header, clause and term,
its id `standard id << 20 | position`, its body the space-joined jieba words. The database
indexes the body: SQLite an external-content FTS5 table, PostgreSQL a generated tsvector
column with a GIN index. No foreign key to the standard (the test suite's flush truncates
Django's tables only); the index follows deletions through a post_delete receiver, and
search joins every hit back to the caller's standards.
"""

from django.db import migrations

COMMON = """
CREATE TABLE standards_search (
    id {pk} PRIMARY KEY,
    standard_id bigint NOT NULL,
    kind varchar(8) NOT NULL,
    number varchar(32) NOT NULL,
    source_id bigint NULL,
    body text NOT NULL{extra}
)
"""

FORWARD = {
    "sqlite": [
        COMMON.format(pk="integer", extra=""),  # integer PRIMARY KEY: the rowid itself
        "CREATE VIRTUAL TABLE standards_search_fts USING fts5("
        "body, content='standards_search', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
    ],
    "postgresql": [
        COMMON.format(
            pk="bigint",
            extra=",\n    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED",
        ),
        "CREATE INDEX standards_search_tsv ON standards_search USING gin (tsv)",
    ],
}

BACKWARD = {
    "sqlite": ["DROP TABLE standards_search_fts", "DROP TABLE standards_search"],
    "postgresql": ["DROP TABLE standards_search"],
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
