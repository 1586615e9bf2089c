from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from core.views import healthz

admin.site.site_header = admin.site.site_title = settings.MALL_NAME

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="h5:home", permanent=False)),
    path("healthz", healthz, name="healthz"),  # answered by HealthCheckMiddleware first
    path("m/", include("config.urls_h5")),
    path("api/pos/v1/", include("pos.urls_api")),
    path("api/sms/", include("members.urls_api")),  # the SMS gateway's uplink (退订 replies)
    path("backoffice/", include("config.urls_backoffice")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
]

# Chinese error pages in the member or back-office shell (core/errors.py).
handler400 = "core.errors.error_400"
handler403 = "core.errors.error_403"
handler404 = "core.errors.error_404"
handler500 = "core.errors.error_500"
