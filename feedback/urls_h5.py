"""Member pages of customer service under /m/feedback/ (namespace "h5:feedback"). A ticket's
address is its number (FK + date + sequence), so words like "new" stay free for other pages."""

from django.urls import path, re_path

from feedback import views_h5

app_name = "feedback"

NUMBER = r"(?P<number>FK[0-9]{12,16})"

urlpatterns = [
    re_path(rf"^{NUMBER}/$", views_h5.ticket_detail, name="ticket"),
    path("<str:number>/photos/<int:photo_id>/", views_h5.ticket_photo, name="ticket_photo"),
]
