"""OpenAPI post-processing: document the error answers every operation can give.

drf-spectacular documents success responses only. Clients (and schemathesis) need the rest:
401 without a valid token, 404 for ids that are not yours, 429 when throttled, 503 while
the database is away, and for writes 400 (per-field messages), 413 and 422.
"""

from typing import Any

ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# {"field": ["message", ...]} for fields; {"detail": "..."} for an unparseable body.
VALIDATION_ERRORS = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
}


def _response(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["ValidationErrors"] = VALIDATION_ERRORS
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            errors: dict[str, dict[str, Any]] = {}
            if any(p["in"] == "query" for p in operation.get("parameters", [])):
                errors["400"] = _response("Invalid query parameter.", "ValidationErrors")
            if operation.get("security", [{}]) != [{}]:
                errors["401"] = _response("No valid token.", "Error")
                errors["429"] = _response("Too many requests; see Retry-After.", "Error")
                errors["404"] = _response("Not found, or not yours; or a bad cursor.", "Error")
                errors["503"] = _response("The database is unavailable.", "Error")
            if method == "post":
                errors["400"] = _response("Invalid input, per field.", "ValidationErrors")
                errors["413"] = _response("Request body too large.", "Error")
                errors["415"] = _response("Unsupported media type.", "Error")
                errors["422"] = _response("Idempotency-Key reused for another document.", "Error")
            for code, response in errors.items():
                responses.setdefault(code, response)
    return result
