"""The SMS gateway's uplink: members' replies to our texts, pushed to us. A reply of "R",
"TD", 退订… opts the phone's member out of marketing SMS (members.marketing)."""

import hmac
import json

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from members.marketing import sms_reply_receive


@csrf_exempt  # a machine with the gateway's key, not a browser with a session
@require_POST
def sms_replies(request):
    """POST {"phone": "138…", "text": "R"} with "Authorization: Bearer <SMS_GATEWAY_KEY>"."""
    key = settings.SMS_GATEWAY_KEY
    given = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not key or not hmac.compare_digest(given.encode(), key.encode()):
        return JsonResponse({"error": "forbidden"}, status=403)
    try:
        body = json.loads(request.body)
        phone, text = str(body["phone"]), str(body["text"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "bad_request"}, status=400)
    return JsonResponse({"ok": True, "opted_out": sms_reply_receive(phone=phone, text=text)})
