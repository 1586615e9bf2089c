from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.audit import audit_log
from core.auth import backoffice_required
from members.forms import MessagePushForm
from members.messaging import messages_send
from members.models import Member
from members.scoping import scoped


@backoffice_required(perm="members.add_message")
def message_push(request):
    """Staff push a message to every member in their scope, or to listed card numbers."""
    form = MessagePushForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        members = scoped(Member.objects.all(), user=request.user, store_field="home_store")
        if data["audience"] == MessagePushForm.AUDIENCE_CARDS:
            members = members.filter(card_no__in=data["card_list"])
        count = messages_send(
            members=members,
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            link=data["link"],
        )
        audit_log(
            actor=request.user,
            action="members.message.pushed",
            data={"title": data["title"], "audience": data["audience"], "count": count},
        )
        messages.success(request, _("Message sent to %(count)s members.") % {"count": count})
        return redirect("backoffice:message_push")
    return render(request, "backoffice/members/message_push.html", {"form": form})
