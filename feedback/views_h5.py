"""Member pages of customer service: a ticket's status and public timeline, its photos."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.storage import private_file_response
from feedback import photos, selectors
from feedback.models import Ticket, TicketPhoto
from members.session import member_required


def _own_ticket(request, number: str) -> Ticket:
    try:
        return selectors.member_ticket(member=request.member, number=number)
    except Ticket.DoesNotExist:
        raise Http404 from None


@require_GET
@member_required
def ticket_detail(request, number: str):
    """我的反馈 › a ticket: status, number, the handler's card and the public timeline."""
    ticket = _own_ticket(request, number)
    return render(
        request,
        "h5/feedback/ticket.html",
        {
            "ticket": ticket,
            "events": selectors.member_timeline(ticket=ticket),
            "handler": selectors.handler_of(ticket.handler),
            "photos": ticket.photos.all(),
        },
    )


@require_GET
@member_required
def ticket_photo(request, number: str, photo_id: int):
    """A photo of the member's own ticket (private storage, streamed after the check)."""
    ticket = _own_ticket(request, number)
    try:
        photo = ticket.photos.get(pk=photo_id)
    except TicketPhoto.DoesNotExist:
        raise Http404 from None
    return private_file_response(photo.image, content_type=photos.CONTENT_TYPE)
