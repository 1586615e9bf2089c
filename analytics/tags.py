"""Member tags: manual ones staff put on and take off, rule ones recomputed from their filter.

Every write is set-based: a bulk tag is one INSERT … SELECT, a rule tag's recompute one
DELETE of the members who no longer match and one INSERT of those who newly do, in a
transaction of its own per tag.
"""

import logging

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.models import MemberTag, Tag
from analytics.segments import members_active, members_matching, params_clean
from core.audit import audit_log
from core.exceptions import ServiceError

logger = logging.getLogger(__name__)


class TagError(ServiceError):
    pass


def tag_save(
    *,
    tag: Tag | None = None,
    name: str,
    kind: str,
    description: str = "",
    rule: dict | None = None,
    actor,
) -> Tag:
    """Create or change a tag; a rule tag's filter is checked and kept normalised."""
    rule = params_clean(rule or {}) if kind == Tag.Kind.RULE else {}
    if kind == Tag.Kind.RULE and not rule:
        raise TagError(_("A rule tag needs at least one filter."))
    if Tag.objects.filter(name=name).exclude(pk=getattr(tag, "pk", None)).exists():
        raise TagError(_("A tag with this name exists."))
    created = tag is None
    if created:
        tag = Tag(name=name, kind=kind)
    elif tag.kind != kind:
        raise TagError(_("A tag's kind cannot change."))
    tag.name, tag.description, tag.rule = name, description, rule
    tag.save()
    audit_log(
        actor=actor,
        action="analytics.tag.created" if created else "analytics.tag.changed",
        target=tag,
        data={"name": name, "kind": kind, "rule": rule},
    )
    return tag


def _manual(tag: Tag) -> None:
    if tag.kind != Tag.Kind.MANUAL:
        raise TagError(_("A rule tag follows its rule; it cannot be put on or taken off by hand."))


def member_tag_add(*, tag: Tag, member, actor) -> bool:
    """Put a manual tag on a member; False if it was there already."""
    _manual(tag)
    _row, created = MemberTag.objects.get_or_create(
        tag=tag, member=member, defaults={"added_by": actor}
    )
    if created:
        audit_log(actor=actor, action="analytics.tag.added", target=member, data={"tag": tag.name})
    return created


def member_tag_remove(*, tag: Tag, member, actor) -> bool:
    """Take a manual tag off a member; False if it was not there."""
    _manual(tag)
    deleted, _rows = MemberTag.objects.filter(tag=tag, member=member).delete()
    if deleted:
        audit_log(
            actor=actor, action="analytics.tag.removed", target=member, data={"tag": tag.name}
        )
    return bool(deleted)


def _insert_tagged(tag: Tag, members: QuerySet, actor_id) -> int:
    sql, params = members.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MemberTag._meta.db_table} (tag_id, member_id, added_at, added_by_id) "  # noqa: S608
            f"SELECT %s, m.id, %s, %s FROM ({sql}) AS m(id) "
            "ON CONFLICT (tag_id, member_id) DO NOTHING",
            [tag.pk, timezone.now(), actor_id, *params],
        )
        return cursor.rowcount


def tag_members_bulk(*, tag: Tag, members: QuerySet, actor, source: dict) -> int:
    """Put a manual tag on every member of `members` (a filtered list or a group, already in
    the actor's scope) in one INSERT … SELECT; the number newly tagged."""
    _manual(tag)
    with transaction.atomic():
        added = _insert_tagged(tag, members, actor.pk)
        audit_log(
            actor=actor,
            action="analytics.tag.bulk_added",
            target=tag,
            data={"added": added, **source},
        )
    return added


def rule_tag_recompute(*, tag: Tag) -> dict:
    """Make a rule tag's members exactly those its filter matches now (every active member,
    no scope): stale rows deleted, new ones inserted, in one transaction."""
    if tag.kind != Tag.Kind.RULE:
        raise TagError(_("Only a rule tag is recomputed."))
    matching = members_matching(params_clean(tag.rule), members_active()).order_by().values("pk")
    sql, params = matching.query.sql_with_params()
    with transaction.atomic():
        Tag.objects.select_for_update().filter(pk=tag.pk).first()  # one recompute at a time
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {MemberTag._meta.db_table} t WHERE t.tag_id = %s "  # noqa: S608
                f"AND NOT EXISTS (SELECT 1 FROM ({sql}) AS m(id) WHERE m.id = t.member_id)",
                [tag.pk, *params],
            )
            removed = cursor.rowcount
        added = _insert_tagged(tag, matching, None)
        tag.recomputed_at = timezone.now()
        tag.save(update_fields=["recomputed_at"])
    return {"tag": tag.name, "added": added, "removed": removed}


def rule_tags_recompute() -> list[dict]:
    """Every rule tag, each in its own transaction; a tag whose rule fails is logged and the
    others go on."""
    results = []
    for tag in Tag.objects.filter(kind=Tag.Kind.RULE).order_by("pk"):
        try:
            results.append(rule_tag_recompute(tag=tag))
        except ServiceError as exc:
            logger.warning("rule tag %s not recomputed: %s", tag.pk, exc)
            results.append({"tag": tag.name, "error": str(exc)})
    return results
