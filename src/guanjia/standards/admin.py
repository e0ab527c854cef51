"""Django admin of the standards library, for platform administrators. Day-to-day work
(import, editing, search) happens in the Guanjia UI and API, which go through services;
admin edits are audited by the same signals."""

from django.contrib import admin

from .models import Clause, Reference, Standard, Term


class ClauseInline(admin.TabularInline):
    model = Clause
    fields = ("position", "number", "title", "kind", "text")
    readonly_fields = ("position",)
    extra = 0
    show_change_link = True


class TermInline(admin.TabularInline):
    model = Term
    fields = ("number", "term", "english", "definition")
    extra = 0


class ReferenceInline(admin.TabularInline):
    model = Reference
    fk_name = "standard"
    fields = ("code", "dated", "title", "target")
    raw_id_fields = ("target",)
    extra = 0


@admin.register(Standard)
class StandardAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "level", "stage", "effective_date", "agency", "is_public")
    list_filter = ("level", "stage", "is_public", "mandatory")
    search_fields = ("code", "code_key", "title", "english_title")
    readonly_fields = ("code_key", "clause_count", "content_digest", "created_at", "updated_at")
    raw_id_fields = ("agency", "region")
    filter_horizontal = ("replaces", "shared_with")
    inlines = (ClauseInline, TermInline, ReferenceInline)


@admin.register(Clause)
class ClauseAdmin(admin.ModelAdmin):
    list_display = ("standard", "number", "title", "kind")
    list_filter = ("kind",)
    search_fields = ("standard__code", "number", "title", "text")
    raw_id_fields = ("standard",)
