from django.shortcuts import render

from stores.selectors import stores_open


def home(request):
    return render(request, "h5/mall/home.html", {"stores": stores_open(), "tab": "home"})
