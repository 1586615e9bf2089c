from django.shortcuts import get_object_or_404, render

from stores.selectors import floors_with_shops, stores_open


def home(request):
    return render(request, "h5/mall/home.html", {"stores": stores_open(), "tab": "home"})


def floor_guide(request, store_code: str):
    store = get_object_or_404(stores_open(), code=store_code)
    return render(
        request,
        "h5/mall/floor_guide.html",
        {"store": store, "floors": floors_with_shops(store=store), "tab": "floors"},
    )
