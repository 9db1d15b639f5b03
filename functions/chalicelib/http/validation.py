"""Turning request bytes and query strings into typed schema objects.

msgspec validates in one C pass but stops at the first problem. When that pass fails we
walk the schema field by field to name *every* bad field, so a storefront developer fixes
a request in one round instead of one error at a time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from chalicelib.kernel.errors import BadRequest, ValidationFailed, field_error

T = TypeVar("T")
_UNREADABLE = object()  # a body msgspec cannot decode without a schema either


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
    readable = data is not _UNREADABLE
    if readable and isinstance(schema, type) and issubclass(schema, msgspec.Struct):
        details = _field_errors(data, schema, "", strict)
    if not details:  # a root-level type error, or a rule the field walk cannot see
        path, reason = _split_msgspec_message(str(exc))
        details = [field_error(path or "(body)", reason)]
    names = ", ".join(d["field"] for d in details)
    return ValidationFailed(f"The request has invalid fields: {names}.", details=details)


def _malformed(exc: Exception) -> BadRequest:
    """400 for a body that is not JSON at all, whatever the schema."""
    if isinstance(exc, UnicodeDecodeError):
        reason = "it is not UTF-8 text"
    elif isinstance(exc, RecursionError):
        reason = "it is nested too deeply"
    else:
        reason = str(exc)
    return BadRequest(f"The body is not valid JSON: {reason}.", code="malformed_json")


def parse_json(raw: str | bytes | None, schema: type[T]) -> T:
    """Decode and validate a JSON body; 400 for malformed JSON, 422 naming each bad field
    (numbers DynamoDB cannot store included)."""
    if not raw:
        raise BadRequest("A JSON request body is required.", code="body_required")
    try:
        value = msgspec.json.decode(raw, type=schema)
    except msgspec.ValidationError as exc:
        # msgspec stops at the first schema error, possibly before the end of the body: a
        # body that is not JSON at all (``{}x``) is a 400, not a list of bad fields.
        try:
            data = msgspec.json.decode(raw)
        except msgspec.ValidationError:  # e.g. 1e400: JSON, but no number we can hold
            data = _UNREADABLE
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as bad:
            raise _malformed(bad) from None
        raise _failure(exc, data, schema, strict=True) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _malformed(exc) from None
    _refuse_unstorable(value)
    return value


def check_json(raw: str | bytes | None) -> None:
    """400 unless ``raw`` is well-formed JSON (a file or a signed notification taken as
    bytes, so nothing downstream ever sees a body that is not JSON)."""
    if not raw:
        raise BadRequest("A JSON request body is required.", code="body_required")
    try:
        msgspec.json.decode(raw)
    except msgspec.ValidationError:  # JSON with a number msgspec cannot hold: not ours to judge
        pass
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise _malformed(exc) from None


def parse_query(params: Mapping[str, str] | None, schema: type[T]) -> T:
    """Validate query-string parameters (all strings on the wire, so converted leniently)."""
    data = dict(params or {})
    try:
        value = msgspec.convert(data, schema, strict=False)
    except msgspec.ValidationError as exc:
        raise _failure(exc, data, schema, strict=False) from None
    _refuse_unstorable(value)
    return value


# DynamoDB numbers: at most 38 significant digits, magnitude 1e-130 to below 1e126.
_MAX_INT = 10**38
_MIN_MAGNITUDE = 1e-130
_MAX_MAGNITUDE = 1e126


def _unstorable(value: Any, path: str) -> list[dict[str, str]]:
    """Each number in ``value`` that DynamoDB would refuse (a 500 if it got that far)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        if abs(value) >= _MAX_INT:
            return [field_error(path or "(body)", "number too large: at most 38 digits")]
        return []
    if isinstance(value, float):
        size = abs(value)
        if not math.isfinite(value) or size >= _MAX_MAGNITUDE:
            return [field_error(path or "(body)", "number too large: below 1e126")]
        if 0 < size < _MIN_MAGNITUDE:
            return [field_error(path or "(body)", "number too small: 0 or at least 1e-130")]
        return []
    if isinstance(value, msgspec.Struct):
        return [
            e
            for f in msgspec.structs.fields(value)
            for e in _unstorable(getattr(value, f.name), _join(path, f.encode_name))
        ]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in _unstorable(v, _join(path, str(k)))]
    if isinstance(value, list | tuple | set | frozenset):
        return [e for i, v in enumerate(value) for e in _unstorable(v, f"{path}[{i}]")]
    return []


def _refuse_unstorable(value: Any) -> None:
    details = _unstorable(value, "")
    if details:
        names = ", ".join(d["field"] for d in details)
        raise ValidationFailed(f"The request has invalid fields: {names}.", details=details)


def to_builtins(value: Any) -> Any:
    """Schema objects to plain JSON-able values."""
    return msgspec.to_builtins(value)
