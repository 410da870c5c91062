"""Swagger UI at /api/docs/ under the site's CSP: every script and style is a file.

drf-spectacular's split view serves the init script from its own URL
(script-src 'self'); our template drops the page's inline <style> for a
stylesheet, and drf-spectacular-sidecar serves Swagger UI itself.
"""

from drf_spectacular.views import SpectacularSwaggerSplitView


class SwaggerDocs(SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"
