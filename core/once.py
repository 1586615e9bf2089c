"""Staff forms that write money, points or coupons are submitted once.

Each such form carries a random one-time token (`{% once_token %}`, core/templatetags/
backoffice.py), and its view is wrapped in `submit_once`. The first POST with a token records
it, with the view's work, in one transaction; its redirect and messages are stored. A second
POST with the same token (a double click, a refresh, a retry after a timeout) waits for the
first to finish and then gets the first's answer again, without running the view: one ledger
entry, one coupon. A POST that did not succeed (form errors) frees its token for the retry.
Services that take an idempotency key get the token too (`once_key`).
"""

import re
import secrets
from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from core.models import FormSubmission

FIELD = "once_token"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
KEPT = timedelta(days=2)


def once_token_new() -> str:
    return secrets.token_urlsafe(32)


def once_key(request) -> str:
    """The token of the POST being served (valid: submit_once checked it)."""
    return request.POST[FIELD]


def _messages_queued(request) -> list:
    # The messages added while serving this request. Read without iterating the storage,
    # which would mark them as shown (and skip their preparation for the session).
    return list(getattr(messages.get_messages(request), "_queued_messages", []))


def submit_once(view):
    """Run the POSTs of `view` at most once per one-time token; a repeat gets the first's
    redirect and messages. A POST without a valid token gets a page asking to reload."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        token = request.POST.get(FIELD, "")
        if not TOKEN.fullmatch(token) or not request.user.is_authenticated:
            return render(request, "backoffice/form_expired.html", status=400)
        with transaction.atomic():
            # A concurrent first POST holds the row's insert open: this waits for it.
            submission, created = FormSubmission.objects.get_or_create(
                token=token, defaults={"user": request.user, "path": request.path}
            )
            if not created:
                if submission.user_id != request.user.pk or submission.path != request.path:
                    return render(request, "backoffice/form_expired.html", status=400)
                for level, text, tags in submission.messages:
                    messages.add_message(request, level, text, extra_tags=tags)
                return redirect(submission.location)
            before = len(_messages_queued(request))
            response = view(request, *args, **kwargs)
            if response.status_code not in (301, 302, 303):
                submission.delete()  # not done: the same token may be sent again
                return response
            submission.location = response["Location"]
            submission.messages = [
                [m.level, str(m.message), m.extra_tags or ""]
                for m in _messages_queued(request)[before:]
            ]
            submission.save(update_fields=["location", "messages"])
            FormSubmission.objects.filter(
                user=request.user, created_at__lt=timezone.now() - KEPT
            ).delete()
        return response

    return wrapper
