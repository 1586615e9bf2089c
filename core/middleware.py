from core.views import healthz


class HealthCheckMiddleware:
    """Answer /healthz before host validation and the HTTPS redirect.

    Load balancers and container health checks call it by IP over plain HTTP; it reveals no
    data, so it needs neither an allowed Host header nor TLS.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return healthz(request)
        return self.get_response(request)
