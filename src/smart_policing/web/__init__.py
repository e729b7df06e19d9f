"""Server-rendered pages: Jinja2 templates and static files (no CDN: works offline)."""

__all__: list[str] = []
