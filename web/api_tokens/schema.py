"""The token scheme in the OpenAPI schema (drf-spectacular has no description of our class)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from .tokens import MARKER


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api_tokens.authentication.ApiTokenAuthentication"
    name = "apiToken"
    # Ahead of drf-spectacular's own TokenScheme, which matches TokenAuthentication subclasses.
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                f"`Authorization: Token {MARKER}<id>_<secret>`. Tokens are minted with "
                "`manage.py create_api_token <user>` (shown once; the server keeps only a hash), "
                "may expire, and are revoked by id. Requests without a valid token are "
                "throttled per client address."
            ),
        }
