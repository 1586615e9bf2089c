from django.urls import path

from members import api

app_name = "sms_api"

urlpatterns = [
    path("replies", api.sms_replies, name="replies"),
]
