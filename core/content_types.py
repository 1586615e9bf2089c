"""Content types that follow a model to another app, written by data migrations (called
with a migration's `apps`). Permissions hang on the content type, so moving its row keeps
every group's and user's permissions, and the admin's history, attached to the model."""


def content_types_move(apps, *, models: list[str], from_label: str, to_label: str) -> None:
    """Give the content types of `models` (lowercase model names) `to_label` instead of
    `from_label`. A row already under `to_label` is one that post_migrate created before the
    move ran, without any grants: it gives way to the old row."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in models:
        old = ContentType.objects.filter(app_label=from_label, model=model).first()
        if old is None:
            continue
        ContentType.objects.filter(app_label=to_label, model=model).delete()
        old.app_label = to_label
        old.save(update_fields=["app_label"])
