from django.core.management.base import BaseCommand

from members.wechat_fake import FakeWeChatServer


class Command(BaseCommand):
    help = "Serve the fake WeChat API (OAuth, userinfo, tokens, template messages) on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8011)
        parser.add_argument("--app-id", default="wx_fake_app")
        parser.add_argument("--secret", default="fake-secret")

    def handle(self, *args, port, app_id, secret, **options):
        server = FakeWeChatServer(app_id=app_id, secret=secret, port=port)
        self.stdout.write(f"Fake WeChat on {server.base_url} (app id {app_id}); Ctrl-C stops it.")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
