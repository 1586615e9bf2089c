"""The member's data rights: downloading their data (个人数据) and deleting the account
(注销账号), confirmed by an SMS code to the bound phone."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.client_ip import client_ip
from core.exceptions import ServiceError
from core.masking import mask_phone
from members.data_rights import member_data_export, member_delete_by_code
from members.forms import AccountDeleteForm
from members.models import SmsCode
from members.otp import SmsCodeError, sms_code_send
from members.session import member_required, member_session_logout


@never_cache
@member_required
def member_data_download(request):
    """个人数据: the member's own data as a JSON download."""
    response = JsonResponse(
        member_data_export(member=request.member), json_dumps_params={"ensure_ascii": False}
    )
    filename = f"member-{request.member.card_no}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
@member_required
def member_delete_confirm(request):
    """注销账号: explain what is lost, then confirm with a code sent to the bound phone."""
    member = request.member
    form = AccountDeleteForm(request.POST or None)
    code_sent = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if request.POST.get("action") == "send":
                sms_code_send(
                    phone=member.phone,
                    purpose=SmsCode.Purpose.DELETE_ACCOUNT,
                    ip=client_ip(request),
                )
                code_sent = True
                messages.success(
                    request,
                    _("A code was sent to %(phone)s.") % {"phone": mask_phone(member.phone)},
                )
            elif not data["understood"]:
                form.add_error("understood", _("Please confirm that you understand."))
            elif not data["code"]:
                form.add_error("code", _("Enter the 6-digit code from the text message."))
            else:
                member_delete_by_code(member_id=member.pk, code=data["code"])
                member_session_logout(request)
                return redirect("h5:member_deleted")
        except ServiceError as exc:
            form.add_error("code" if isinstance(exc, SmsCodeError) else None, exc.message)
    return render(
        request,
        "h5/members/account_delete.html",
        {
            "form": form,
            "code_sent": code_sent,
            "phone_masked": mask_phone(member.phone),
            "tab": "card",
        },
        status=400 if form.errors else 200,
    )


@require_GET
def member_deleted(request):
    return render(request, "h5/members/account_deleted.html", {"hide_tabbar": True})
