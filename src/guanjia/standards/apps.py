from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StandardsConfig(AppConfig):
    name = "guanjia.standards"
    label = "standards"
    verbose_name = _("标准库")

    def ready(self):
        from guanjia.core.backup import restored

        # registers the standards.* indicators; connects the search index's receivers
        from . import indicators, search  # noqa: F401

        restored.connect(_reindex_after_restore, dispatch_uid="standards_reindex")


def _reindex_after_restore(sender, **kwargs):
    """The search index lives in tables of its own (FTS5 / tsvector): rebuild it from the
    restored standards, or it would point at whatever rows now carry the old ids."""
    from .search import reindex_all

    reindex_all()
