"""
Render every public page into the page cache now (livelihood/public/warmup.py says how).

    manage.py warm_pages                               # PUBLIC_BASE_URL and recent origins
    manage.py warm_pages --origin https://mss.example.gov.cn

After a deploy, so that residents' first requests are hits. The background worker does the
same after each publication.
"""

from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from livelihood.public.warmup import origins, warm


class Command(BaseCommand):
    help = "把所有公开页面预先生成到页面缓存中，并报告页面数和用时。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            metavar="URL",
            help="另外为这个访问地址生成页面（如 https://mss.example.gov.cn），可重复",
        )

    def handle(self, *args, origin, **options):
        for given in origin:
            parts = urlsplit(given)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise CommandError(f"--origin 应为 http(s)://主机[:端口]，实际为 {given!r}。")
        extra = [given.rstrip("/") for given in origin]
        if not extra and not origins():
            self.stdout.write(
                "没有可预热的访问地址：未设置 PUBLIC_BASE_URL，近期也没有页面被访问。"
                "可用 --origin 指定。"
            )
            return
        done = warm(extra_origins=extra)
        self.stdout.write(
            f"已生成 {done.pages} 个页面（已在缓存 {done.cached} 个，未缓存 {done.skipped} 个），"
            f"用时 {done.seconds:.1f} 秒。"
        )
