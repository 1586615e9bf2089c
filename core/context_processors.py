from django.conf import settings


def site(request):
    return {"MALL_NAME": settings.MALL_NAME}
