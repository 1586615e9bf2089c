from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.auth import backoffice_required
from core.exceptions import ServiceError
from core.once import submit_once
from members.forms import MessagePushForm, PiiRevealForm
from members.messaging import messages_push_by_staff
from members.models import Member, MemberProfile, RegistrationChannel
from members.panels import member_panels
from members.scoping import scoped_members
from members.services import member_pii_reveal


@backoffice_required(perm="members.add_message")
@submit_once
def message_push(request):
    """Staff push a message to every member in their scope, or to listed card numbers."""
    form = MessagePushForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        listed = data["audience"] == MessagePushForm.AUDIENCE_CARDS
        count = messages_push_by_staff(
            actor=request.user,
            card_nos=data["card_list"] if listed else None,
            kind=data["kind"],
            title=data["title"],
            body=data["body"],
            link=data["link"],
        )
        messages.success(request, _("Message sent to %(count)s members.") % {"count": count})
        return redirect("backoffice:message_push")
    return render(request, "backoffice/members/message_push.html", {"form": form})


def _members_in_scope(user):
    return scoped_members(Member.objects.select_related("home_store"), user=user)


def _member_detail(request, member, *, form, revealed=None, status=200):
    return render(
        request,
        "backoffice/members/member_detail.html",
        {
            "member": member,
            "profile": MemberProfile.objects.filter(member=member)
            .prefetch_related("interests")
            .first(),
            "form": form,
            "revealed": revealed,
            "can_reveal": request.user.has_perm("members.reveal_member_pii"),
            "panels": member_panels(member=member, user=request.user),
        },
        status=status,
    )


def _member_in_scope(user, member_id: int) -> Member:
    """The member, with the name of their registration channel (channel_name), or a 404."""
    channel = RegistrationChannel.objects.filter(code=OuterRef("channel")).values("name")[:1]
    return get_object_or_404(
        _members_in_scope(user).annotate(channel_name=Subquery(channel)), pk=member_id
    )


@backoffice_required(perm="members.view_member")
def member_detail(request, member_id: int):
    """One member, with personal data masked; out of the staff member's scope is a 404."""
    member = _member_in_scope(request.user, member_id)
    return _member_detail(request, member, form=PiiRevealForm())


@never_cache
@require_POST
@backoffice_required(perm="members.reveal_member_pii")
def member_reveal(request, member_id: int):
    """Show one full value (phone or ID number) for a stated reason; each call is audited."""
    member = _member_in_scope(request.user, member_id)
    form = PiiRevealForm(request.POST)
    if form.is_valid():
        field = form.cleaned_data["field"]
        try:
            value = member_pii_reveal(
                member=member, field=field, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            label = dict(form.fields["field"].choices)[field]
            revealed = {"field": field, "label": label, "value": value}
            return _member_detail(request, member, form=PiiRevealForm(), revealed=revealed)
    return _member_detail(request, member, form=form, status=400)
