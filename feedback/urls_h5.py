"""Member pages of customer service under /m/feedback/ (namespace "h5:feedback"). A ticket's
address is its number (FK + date + sequence), so words like "new" stay free for other pages."""

from django.urls import path, re_path

from feedback import views_h5

app_name = "feedback"

NUMBER = r"(?P<number>FK[0-9]{12,16})"

urlpatterns = [
    path("", views_h5.ticket_list, name="list"),
    path("new/", views_h5.ticket_new, name="new"),
    re_path(rf"^{NUMBER}/$", views_h5.ticket_detail, name="ticket"),
    re_path(rf"^{NUMBER}/rate/$", views_h5.ticket_rate, name="rate"),
    re_path(rf"^{NUMBER}/reopen/$", views_h5.ticket_reopen, name="reopen"),
    path("<str:number>/photos/<int:photo_id>/", views_h5.ticket_photo, name="ticket_photo"),
]
