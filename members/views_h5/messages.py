"""系统消息: the member's inbox and one message, marked read when opened."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render

from members.messaging import message_read
from members.models import Message
from members.session import member_required


@member_required
def message_list(request):
    kind = request.GET.get("kind", "")
    messages_qs = Message.objects.filter(member=request.member)
    if kind in Message.Kind.values:
        messages_qs = messages_qs.filter(kind=kind)
    page = Paginator(messages_qs, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "h5/members/message_list.html",
        {"page": page, "kind": kind, "kinds": Message.Kind.choices, "tab": "card"},
    )


@member_required
def message_detail(request, message_id: int):
    try:
        message = message_read(member=request.member, message_id=message_id)
    except Message.DoesNotExist:
        raise Http404 from None
    return render(request, "h5/members/message_detail.html", {"message": message, "tab": "card"})
