"""Turning request bytes and query strings into typed schema objects.

msgspec validates in one C pass but stops at the first problem. When that pass fails we
walk the schema field by field to name *every* bad field, so a storefront developer fixes
a request in one round instead of one error at a time.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from chalicelib.errors import BadRequest, ValidationFailed, field_error

T = TypeVar("T")


def _split_msgspec_message(message: str) -> tuple[str, str]:
    """``"Expected `int` >= 0 - at `$.a.b`"`` -> (``"a.b"``, ``"Expected `int` >= 0"``)."""
    if " - at `$" in message:
        reason, _, path = message.rpartition(" - at `$")
        return path.rstrip("`").lstrip("."), reason
    return "", message


def _join(prefix: str, suffix: str) -> str:
    if not suffix:
        return prefix
    if not prefix:
        return suffix
    return f"{prefix}{suffix}" if suffix.startswith("[") else f"{prefix}.{suffix}"


def _field_errors(data: Any, schema: type, prefix: str, strict: bool) -> list[dict[str, str]]:
    """Every error of ``data`` against a Struct schema, one entry per bad field."""
    if not isinstance(data, dict):
        name = "object"
        return [field_error(prefix or "(body)", f"expected a JSON {name}")]
    errors: list[dict[str, str]] = []
    fields = msgspec.structs.fields(schema)
    known = {f.encode_name for f in fields}
    for f in fields:
        path = _join(prefix, f.encode_name)
        if f.encode_name not in data:
            if f.required:
                errors.append(field_error(path, "required"))
            continue
        value = data[f.encode_name]
        inner = f.type
        if (
            isinstance(inner, type)
            and issubclass(inner, msgspec.Struct)
            and isinstance(value, dict)
        ):
            errors.extend(_field_errors(value, inner, path, strict))
            continue
        try:
            msgspec.convert(value, inner, strict=strict)
        except msgspec.ValidationError as exc:
            sub, reason = _split_msgspec_message(str(exc))
            errors.append(field_error(_join(path, sub), reason))
    config = getattr(schema, "__struct_config__", None)
    if config is not None and config.forbid_unknown_fields:
        errors.extend(
            field_error(_join(prefix, k), "unknown field") for k in data if k not in known
        )
    return errors


def _failure(
    exc: msgspec.ValidationError, data: Any, schema: type, strict: bool
) -> ValidationFailed:
    details: list[dict[str, str]] = []
    if isinstance(schema, type) and issubclass(schema, msgspec.Struct):
        details = _field_errors(data, schema, "", strict)
    if not details:  # a root-level type error, or a rule the field walk cannot see
        path, reason = _split_msgspec_message(str(exc))
        details = [field_error(path or "(body)", reason)]
    names = ", ".join(d["field"] for d in details)
    return ValidationFailed(f"The request has invalid fields: {names}.", details=details)


def parse_json(raw: bytes | None, schema: type[T]) -> T:
    """Decode and validate a JSON body; 400 for malformed JSON, 422 naming each bad field."""
    if not raw:
        raise BadRequest("A JSON request body is required.", code="body_required")
    try:
        return msgspec.json.decode(raw, type=schema)
    except msgspec.ValidationError as exc:
        data = msgspec.json.decode(raw)
        raise _failure(exc, data, schema, strict=True) from None
    except msgspec.DecodeError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.", code="malformed_json") from None


def parse_query(params: dict[str, str] | None, schema: type[T]) -> T:
    """Validate query-string parameters (all strings on the wire, so converted leniently)."""
    data = dict(params or {})
    try:
        return msgspec.convert(data, schema, strict=False)
    except msgspec.ValidationError as exc:
        raise _failure(exc, data, schema, strict=False) from None


def to_builtins(value: Any) -> Any:
    """Schema objects to plain JSON-able values."""
    return msgspec.to_builtins(value)
