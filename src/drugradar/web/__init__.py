"""Server-rendered pages (Jinja2 + htmx) over the same core as the API."""
