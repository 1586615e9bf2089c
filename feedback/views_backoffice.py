"""The staff workbench (客服工作台) under /backoffice/feedback/: the queue (反馈列表), a ticket
with its member, photos, deadlines and full timeline (处理反馈), the actions its status
allows and compensation. Every change goes through feedback/services.py; a refusal there is
shown as an error on the page."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.once import once_key, submit_once
from core.storage import private_file_response
from feedback import forms_backoffice as forms
from feedback import photos, selectors, services, workbench
from feedback.models import Ticket, TicketEvent, TicketPhoto
from stores.scoping import scoped

PAGE_SIZE = 30


def _ticket_in_scope(request, pk: int) -> Ticket:
    try:
        return selectors.staff_ticket(user=request.user, pk=pk)
    except Ticket.DoesNotExist:
        raise Http404 from None


@require_GET
@backoffice_required(perm="feedback.view_ticket")
def queue(request):
    """反馈列表: the tickets of the user's stores, filtered, overdue first, then by priority
    and the nearest deadline; counts per status in the tabs."""
    now = timezone.now()
    in_scope = scoped(Ticket.objects.all(), user=request.user, store_field="store")
    form = forms.QueueFilterForm(request.GET or None, user=request.user, tickets=in_scope)
    status, page, counts = "open", None, {}
    if not form.is_bound or form.is_valid():
        data = form.cleaned_data if form.is_bound else {}
        # no status asked (the menu, a page link of the first view): the open tickets
        status = data["status"] if "status" in request.GET else "open"
        handler = data.get("handler") or ""
        tickets = selectors.staff_tickets(
            user=request.user,
            ticket_type=data.get("ticket_type"),
            store=data.get("store"),
            brand=data.get("brand"),
            handler=request.user
            if handler == forms.QueueFilterForm.MINE
            else form.handlers.get(int(handler))
            if handler.isdigit()
            else None,
            overdue=True if data.get("overdue") else None,
            now=now,
        )
        if handler == forms.QueueFilterForm.UNASSIGNED:
            tickets = tickets.filter(handler__isnull=True)
        if data.get("q"):
            tickets = tickets.filter(number=data["q"].strip().upper())
        counts = workbench.status_counts(tickets, now=now)
        if status == "open":
            tickets = tickets.filter(status__in=[Ticket.Status.WAITING, Ticket.Status.PROCESSING])
        elif status:
            tickets = tickets.filter(status=status)
        tickets = workbench.queue_ordered(tickets, now=now).select_related(
            "member", "handler__staff_profile"
        )
        page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
        entry = workbench.tier_entry()
        for ticket in page:
            ticket.rows = workbench.deadlines(ticket, now=now)
            ticket.tier_label = ticket.tier_name or (entry.name if entry else "")
    query = request.GET.copy()
    query.pop("page", None)
    tab_query = query.copy()
    tab_query.pop("status", None)
    tabs = [("open", _("Open tickets")), *Ticket.Status.choices, ("", _("All"))]
    return render(
        request,
        "backoffice/feedback/queue.html",
        {
            "form": form,
            "page": page,
            "status": status,
            "tabs": [(value, label, counts.get(value or "all", 0)) for value, label in tabs],
            "overdue_count": counts.get("overdue", 0),
            "query": query.urlencode(),
            "tab_query": tab_query.urlencode(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


ACTION_FORMS = {
    "claim": forms.EmptyForm,
    "assign": forms.AssignForm,
    "step": forms.StepForm,
    "callback": forms.CallbackForm,
    "note": forms.NoteForm,
    "hold": forms.HoldForm,
    "resume": forms.HoldForm,
    "resolve": forms.ResolveForm,
    "reopen": forms.ReopenForm,
    "close": forms.EmptyForm,
}

DONE = {
    "claim": _("You took the ticket."),
    "assign": _("The ticket was assigned."),
    "step": _("Processing record added."),
    "callback": _("Call-back recorded."),
    "note": _("Internal note added."),
    "hold": _("On hold: the SLA clock is paused until the member replies."),
    "resume": _("Resumed: the SLA clock runs again."),
    "resolve": _("Ticket resolved; the member was told."),
    "reopen": _("Ticket reopened."),
    "close": _("Ticket closed."),
}


def _action_form(action: str, ticket: Ticket, data=None):
    form_class = ACTION_FORMS[action]
    if form_class is forms.AssignForm:
        return form_class(data, ticket=ticket, prefix=action)
    return form_class(data, prefix=action)


def _perform(action: str, ticket: Ticket, actor, data: dict):
    if action == "claim":
        services.ticket_claim(ticket=ticket, actor=actor)
    elif action == "assign":
        services.ticket_assign(ticket=ticket, actor=actor, handler_user=data["handler"])
    elif action == "step":
        services.ticket_step(ticket=ticket, actor=actor, text=data["text"], public=True)
    elif action == "callback":
        services.ticket_callback(
            ticket=ticket,
            actor=actor,
            called_at=data["called_at"],
            outcome=data["outcome"],
            text=data["text"],
        )
    elif action == "note":
        services.ticket_note(ticket=ticket, actor=actor, text=data["text"])
    elif action == "hold":
        services.ticket_hold(ticket=ticket, actor=actor, text=data["text"])
    elif action == "resume":
        services.ticket_resume(ticket=ticket, actor=actor, text=data["text"])
    elif action == "resolve":
        services.ticket_resolve(ticket=ticket, actor=actor, text=data["text"])
    elif action == "reopen":
        services.ticket_reopen(ticket=ticket, actor=actor, reason=data["text"])
    elif action == "close":
        services.ticket_close(ticket=ticket, actor=actor)


def _ticket_page(request, ticket: Ticket, *, bound=None, error: str = "", status: int = 200):
    """The ticket page; `bound` is the form of a failed POST, shown with its errors."""
    now = timezone.now()
    user = request.user
    actions = workbench.allowed_actions(ticket, user)
    action_forms = {a: _action_form(a, ticket) for a in ACTION_FORMS if a in actions}
    compensation_form = forms.CompensationForm(prefix="compensate")
    if bound is not None:
        name, form = bound
        if name == "compensate":
            compensation_form = form
        elif name in action_forms:
            action_forms[name] = form
    rows = workbench.deadlines(ticket, now=now)
    cap = services.compensation_cap_for(user) if "compensate" in actions else None
    compensations = list(
        ticket.compensations.select_related("coupon__template", "actor__staff_profile")
    )
    granted_points = sum(c.points for c in compensations)
    granted_fen = sum(c.value_fen for c in compensations)
    events = list(selectors.staff_timeline(ticket=ticket).select_related("actor__staff_profile"))
    assignees = workbench.users_by_pk(
        {e.data.get("to") for e in events if e.kind == TicketEvent.Kind.ASSIGNED}
    )
    for event in events:
        event.actor_name = workbench.staff_name(event.actor) if event.actor else ""
        if event.kind == TicketEvent.Kind.ASSIGNED and event.data.get("to") in assignees:
            event.assignee = workbench.staff_name(assignees[event.data["to"]])
        event.internal = (not event.public) or event.kind in selectors.INTERNAL_KINDS
    return render(
        request,
        "backoffice/feedback/ticket.html",
        {
            "ticket": ticket,
            "now": now,
            "late": ticket.is_overdue(now),
            "deadlines": rows,
            "card": workbench.member_card(ticket.member, user=user),
            "photos": list(ticket.photos.all()),
            "events": events,
            "handler": workbench.staff_name(ticket.handler) if ticket.handler else "",
            "actions": actions,
            "forms": action_forms,
            "compensation_form": compensation_form,
            "compensations": compensations,
            "cap": cap,
            "granted_points": granted_points,
            "granted_fen": granted_fen,
            "error": error,
            "rating": getattr(ticket, "rating", None),
            "Kind": TicketEvent.Kind,
        },
        status=status,
    )


@require_GET
@backoffice_required(perm="feedback.view_ticket")
def ticket_detail(request, pk: int):
    """处理反馈: one ticket of the user's stores; another store's is a 404."""
    return _ticket_page(request, _ticket_in_scope(request, pk))


@require_POST
@backoffice_required(perm="feedback.change_ticket")
@submit_once
def ticket_act(request, pk: int, action: str):
    """One action on the ticket through its service; a refusal re-shows the page with the
    service's reason."""
    ticket = _ticket_in_scope(request, pk)
    if action not in ACTION_FORMS:
        raise Http404
    form = _action_form(action, ticket, request.POST)
    if not form.is_valid():
        return _ticket_page(request, ticket, bound=(action, form), status=400)
    try:
        _perform(action, ticket, request.user, form.cleaned_data)
    except ServiceError as exc:
        form.add_error(None, exc.message)
        ticket.refresh_from_db()
        return _ticket_page(request, ticket, bound=(action, form), error=exc.message, status=409)
    messages.success(request, DONE[action])
    return redirect("backoffice:feedback_ticket", pk=ticket.pk)


@require_POST
@backoffice_required(perm="feedback.grant_compensation")
@submit_once
def ticket_compensate(request, pk: int):
    """补偿: points or a coupon within the user's cap, granted once per form."""
    ticket = _ticket_in_scope(request, pk)
    form = forms.CompensationForm(request.POST, prefix="compensate")
    if not form.is_valid():
        return _ticket_page(request, ticket, bound=("compensate", form), status=400)
    data = form.cleaned_data
    try:
        compensation = services.compensation_grant(
            ticket=ticket,
            actor=request.user,
            kind=data["kind"],
            points=data.get("points") or 0,
            template=data.get("template"),
            reason=data["reason"],
            once=once_key(request),
        )
    except ServiceError as exc:
        form.add_error(None, exc.message)
        return _ticket_page(
            request, ticket, bound=("compensate", form), error=exc.message, status=409
        )
    if compensation.kind == compensation.Kind.POINTS:
        messages.success(request, _("%(points)s points granted.") % {"points": compensation.points})
    else:
        messages.success(
            request, _("Coupon %(name)s granted.") % {"name": compensation.coupon.template.name}
        )
    return redirect("backoffice:feedback_ticket", pk=ticket.pk)


@require_GET
@backoffice_required(perm="feedback.view_ticket")
def ticket_photo(request, pk: int, photo_id: int):
    """A photo of a ticket of the user's stores (private storage, streamed after the check)."""
    ticket = _ticket_in_scope(request, pk)
    try:
        photo = ticket.photos.get(pk=photo_id)
    except TicketPhoto.DoesNotExist:
        raise Http404 from None
    return private_file_response(photo.image, content_type=photos.CONTENT_TYPE)
