"""Writes of the service desk's settings (系统设置): HQ saves, deactivates or removes a type,
tag, SLA target, opening hours, handler, department, compensation cap or the policy; each
change is one transaction and audited with who changed what."""

from django.db import models, transaction

from core.audit import audit_log


def _label(model: type[models.Model]) -> str:
    return model._meta.model_name


def _plain(value) -> str | int | bool | None:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def setting_save(*, form, actor) -> models.Model:
    """Save a valid settings form's object; audited with the fields that changed."""
    created = form.instance.pk is None
    changed = {name: _plain(form.cleaned_data.get(name)) for name in form.changed_data}
    with transaction.atomic():
        obj = form.save()
        audit_log(
            actor=actor,
            action=f"feedback.settings.{_label(type(obj))}.{'created' if created else 'changed'}",
            target=obj,
            data={"changed": changed, "now": str(obj)},
        )
    return obj


def setting_deactivate(*, obj: models.Model, actor) -> models.Model:
    """Take an entry out of use (types, tags, departments, handlers keep their history)."""
    with transaction.atomic():
        type(obj).objects.filter(pk=obj.pk).update(is_active=False)
        obj.is_active = False
        audit_log(
            actor=actor,
            action=f"feedback.settings.{_label(type(obj))}.deactivated",
            target=obj,
            data={"now": str(obj)},
        )
    return obj


def setting_delete(*, obj: models.Model, actor) -> None:
    """Remove an entry nothing refers to (an SLA target, a weekday's hours, a dated day)."""
    with transaction.atomic():
        audit_log(
            actor=actor,
            action=f"feedback.settings.{_label(type(obj))}.deleted",
            target=obj,
            data={"was": str(obj)},
        )
        obj.delete()
