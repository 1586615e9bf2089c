"""Member pages of customer service: 服务反馈 (a new ticket), 我的反馈 (the member's tickets),
a ticket's status, handler and public timeline, its photos, 再次反馈 and 服务评价."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import ServiceError
from core.once import once_token_new
from core.storage import private_file_response
from feedback import photos, selectors, services
from feedback.forms import MemberRatingForm, MemberReopenForm, MemberTicketForm
from feedback.models import FeedbackSettings, Ticket, TicketEvent, TicketPhoto
from feedback.workflow import OPEN
from members.session import member_required

PAGE_SIZE = 10
STATUS_TABS = [
    ("", gettext_lazy("All")),
    (Ticket.Status.WAITING, Ticket.Status.WAITING.label),
    (Ticket.Status.PROCESSING, Ticket.Status.PROCESSING.label),
    (Ticket.Status.RESOLVED, Ticket.Status.RESOLVED.label),
    (Ticket.Status.CLOSED, Ticket.Status.CLOSED.label),
]
RATEABLE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
# What the member reads for each public event (the staff pages use the kinds' own labels).
MEMBER_EVENT_LABELS = {
    TicketEvent.Kind.CREATED: gettext_lazy("Feedback submitted"),
    TicketEvent.Kind.CLAIMED: gettext_lazy("Accepted by customer service"),
    TicketEvent.Kind.ASSIGNED: gettext_lazy("Handed to a colleague"),
    TicketEvent.Kind.STEP: gettext_lazy("Processing step"),
    TicketEvent.Kind.CALLBACK: gettext_lazy("We called you"),
    TicketEvent.Kind.HELD: gettext_lazy("Waiting for your reply"),
    TicketEvent.Kind.RESUMED: gettext_lazy("Handling continues"),
    TicketEvent.Kind.RESOLVED: gettext_lazy("Resolved"),
    TicketEvent.Kind.REOPENED: gettext_lazy("Feedback again"),
    TicketEvent.Kind.CLOSED: gettext_lazy("Closed"),
    TicketEvent.Kind.RATED: gettext_lazy("You rated the service"),
    TicketEvent.Kind.COMPENSATED: gettext_lazy("Compensation granted"),
}


def _own_ticket(request, number: str) -> Ticket:
    try:
        return selectors.member_ticket(member=request.member, number=number)
    except Ticket.DoesNotExist:
        raise Http404 from None


@require_http_methods(["GET", "POST"])
@member_required
def ticket_new(request):
    """服务反馈: type, details, where, photos and the contact (prefilled from the profile)."""
    form = MemberTicketForm(request.POST or None, request.FILES or None, member=request.member)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.ticket_submit(
                member=request.member,
                ticket_type=data["ticket_type"],
                store=data["store"],
                brand=data["brand"],
                shop=data["shop"],
                details=data["details"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                photos=form.photo_files,
                once=data["once_token"],
                per_day=form.policy.tickets_per_day,
            )
        except ServiceError as exc:
            form.add_error("photos" if exc.code == "too_many_photos" else None, exc.message)
        else:
            messages.success(
                request,
                _("Thank you! Your feedback %(number)s is received.") % {"number": ticket.number},
            )
            response = redirect("h5:feedback:ticket", number=ticket.number)
            if request.headers.get("X-Feedback-Form") == "fetch":
                # The form's script sent it (keeping the chosen photos on an error): it
                # goes there itself, so the message waits for that page.
                response = HttpResponse(status=204, headers={"X-Location": response.url})
            return response
    if form.has_error("once_token"):  # expired or tampered: a fresh token for the next try
        form.data = form.data.copy()
        form.data["once_token"] = once_token_new()
    return render(
        request,
        "h5/feedback/new.html",
        {
            "form": form,
            "policy": form.policy,
            "max_megabytes": f"{form.policy.photo_max_bytes / (1024 * 1024):g}",
            "hide_tabbar": True,  # a long form: the whole screen for it
            "tab": "card",
        },
        status=400 if form.errors else 200,
    )


@require_GET
@member_required
def ticket_list(request):
    """我的反馈: the member's tickets, newest first, by status."""
    status = request.GET.get("status", "")
    if status not in Ticket.Status.values:
        status = ""
    tickets = selectors.member_tickets(member=request.member)
    if status:
        tickets = tickets.filter(status=status)
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    for ticket in page:
        ticket.first_line = next(iter(ticket.details.splitlines()), "")
    return render(
        request,
        "h5/feedback/list.html",
        {
            "page": page,
            "status": status,
            "tabs": [(value, str(label)) for value, label in STATUS_TABS],
            "tab": "card",
        },
    )


def _detail_context(request, ticket: Ticket, **forms) -> dict:
    policy = FeedbackSettings.current()
    now = timezone.now()
    rating = getattr(ticket, "rating", None)  # None: not rated (the reverse one-to-one)
    reopen_until = (
        ticket.resolved_at + timedelta(days=policy.reopen_days)
        if ticket.status == Ticket.Status.RESOLVED and ticket.resolved_at
        else None
    )
    events = list(selectors.member_timeline(ticket=ticket))
    for event in events:
        event.member_label = MEMBER_EVENT_LABELS.get(event.kind) or event.get_kind_display()
    return {
        "ticket": ticket,
        "events": events,
        "handler": selectors.handler_of(ticket.handler),
        "photos": ticket.photos.all(),
        "rating": rating,
        "rating_tags": rating.tags.all() if rating else (),
        "rating_form": forms.get("rating_form")
        or (MemberRatingForm() if rating is None and ticket.status in RATEABLE else None),
        "reopen_form": forms.get("reopen_form")
        or (MemberReopenForm() if reopen_until and reopen_until > now else None),
        "reopen_until": reopen_until,
        # The first-response deadline is a promise the desk makes: shown while it still holds.
        "reply_by": ticket.first_response_due
        if ticket.status in OPEN
        and ticket.first_responded_at is None
        and not ticket.on_hold
        and ticket.first_response_due > now
        else None,
        "tab": "card",
    }


@require_GET
@member_required
def ticket_detail(request, number: str):
    """我的反馈 › a ticket: status, number, the handler's card, the public timeline, and
    再次反馈 / 服务评价 when they apply."""
    ticket = _own_ticket(request, number)
    return render(request, "h5/feedback/ticket.html", _detail_context(request, ticket))


@require_POST
@member_required
def ticket_rate(request, number: str):
    """服务评价: rate a resolved or closed ticket once."""
    ticket = _own_ticket(request, number)
    form = MemberRatingForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_rate(
                ticket=ticket,
                member=request.member,
                stars=form.cleaned_data["stars"],
                tags=form.cleaned_data["tags"],
                comment=form.cleaned_data["comment"],
            )
        except ServiceError as exc:
            if exc.code != "already_rated":
                form.add_error(None, exc.message)
            else:  # a second tab or a double tap: the first rating stands
                messages.info(request, exc.message)
                return redirect("h5:feedback:ticket", number=ticket.number)
        else:
            messages.success(request, _("Thank you for your rating!"))
            return redirect("h5:feedback:ticket", number=ticket.number)
    ticket.refresh_from_db()
    return render(
        request,
        "h5/feedback/ticket.html",
        _detail_context(request, ticket, rating_form=form),
        status=400,
    )


@require_POST
@member_required
def ticket_reopen(request, number: str):
    """再次反馈: the member reopens a resolved ticket within the policy's days."""
    ticket = _own_ticket(request, number)
    form = MemberReopenForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_reopen(
                ticket=ticket, member=request.member, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your feedback is open again. We will get back to you."))
            return redirect("h5:feedback:ticket", number=ticket.number)
    ticket.refresh_from_db()
    return render(
        request,
        "h5/feedback/ticket.html",
        _detail_context(request, ticket, reopen_form=form),
        status=400,
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
