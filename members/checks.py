"""System checks for the members app: the PII key must be a real key, and not the default
one in production."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from members.pii import pii_key_decode

DEVELOPMENT_PII_KEY = "ZGV2ZWxvcG1lbnQtb25seS1waWkta2V5LTMyYnl0ZXM="


@checks.register(checks.Tags.security)
def pii_key_check(app_configs, **kwargs):
    try:
        pii_key_decode(settings.PII_ENCRYPTION_KEY)
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="members.E001")]
    return []


@checks.register(checks.Tags.security, deploy=True)
def pii_key_deploy_check(app_configs, **kwargs):
    if settings.PII_ENCRYPTION_KEY == DEVELOPMENT_PII_KEY:
        return [
            checks.Error(
                "PII_ENCRYPTION_KEY is the development key; set a random one for production.",
                id="members.E002",
            )
        ]
    return []
