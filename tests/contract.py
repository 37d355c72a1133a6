"""openapi.yaml as a test oracle: find what the spec documents for a real response, and
say how the response differs from it.

``contract_violations`` returns a list of readable problems (empty when the response is
as documented), so a test can ``assert violations == []`` and show all of them at once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30ReadValidator

SPEC_PATH = Path(__file__).resolve().parents[1] / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@functools.cache
def spec() -> dict:
    """openapi.yaml with every ``$ref`` replaced by what it points to."""
    raw = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return _dereference(raw, raw)


def _dereference(node: object, root: dict) -> object:
    if isinstance(node, dict):
        if "$ref" in node:
            target: object = root
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]  # type: ignore[index]
            return _dereference(target, root)
        return {key: _dereference(value, root) for key, value in node.items()}
    if isinstance(node, list):
        return [_dereference(item, root) for item in node]
    return node


def path_templates() -> list[str]:
    return list(spec()["paths"])


def operations() -> list[tuple[str, str]]:
    """Every documented (METHOD, path template)."""
    return [(method.upper(), template) for template, item in spec()["paths"].items()
            for method in item if method in METHODS]


def template_for(path: str) -> str | None:
    for template in spec()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    return None


def documented_response(method: str, path: str, status: int) -> tuple[str, dict] | None:
    """(what the spec calls it, the response object) the spec documents for this answer."""
    template = template_for(path)
    responses = spec()["components"]["responses"]
    if template is None:
        return ("404 for an unknown path", responses["NotFound"]) if status == 404 else None
    operation = spec()["paths"][template].get(method.lower())
    if operation is None:
        if status == 405:
            return (f"405 for {method} {template}", responses["MethodNotAllowed"])
        return None
    documented = operation["responses"]
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in documented:
            return (f"{method} {template} {key}", documented[key])
    return None


def contract_violations(method: str, path: str, status: int, headers: Mapping[str, str],
                        body: bytes) -> list[str]:
    """How a real response differs from openapi.yaml; empty when it is as documented."""
    found = documented_response(method, path, status)
    if found is None:
        return [f"{method} {path}: status {status} is not documented"]
    name, response = found
    problems = []
    lowered = {key.lower(): value for key, value in headers.items()}
    for header, declared in response.get("headers", {}).items():
        value = lowered.get(header.lower())
        if value is None:
            if declared.get("required"):
                problems.append(f"{name}: header {header} is missing")
            continue
        problems += [f"{name}: header {header}: {message}"
                     for message in _schema_errors(declared.get("schema", {}), value)]
    content = response.get("content")
    if not content or method.upper() == "HEAD":
        return problems
    media_type = lowered.get("content-type", "").split(";")[0].strip()
    if media_type not in content:
        return [*problems, f"{name}: Content-Type {media_type!r} is not one of {list(content)}"]
    schema = content[media_type].get("schema", {})
    if media_type == "text/event-stream":
        return problems + _event_errors(name, schema, body)
    if media_type == "application/json":
        try:
            document = json.loads(body)
        except ValueError:
            return [*problems, f"{name}: the body is not JSON"]
    else:
        document = body.decode("utf-8", "replace")
    return problems + [f"{name}: body: {message}" for message in _schema_errors(schema, document)]


def _event_errors(name: str, schema: dict, body: bytes) -> list[str]:
    """Each event's data of a server-sent stream against the envelope's
    ``x-content-schema`` (OpenAPI 3.0 has no keyword for it); comments allowed."""
    schema = schema.get("properties", {}).get("data", {}).get("x-content-schema", schema)
    problems = []
    if not body.endswith(b"\n\n"):
        problems.append(f"{name}: the stream does not end with a whole event")
    for block in body.split(b"\n\n")[:-1]:
        if block.startswith(b":"):
            continue
        if not block.startswith(b"data: "):
            problems.append(f"{name}: an event that is not one data line: {block[:80]!r}")
            continue
        try:
            event = json.loads(block[6:])
        except ValueError:
            problems.append(f"{name}: an event whose data is not JSON")
            continue
        problems += [f"{name}: event: {message}" for message in _schema_errors(schema, event)]
    return problems


def _schema_errors(schema: dict, instance: object) -> list[str]:
    validator = OAS30ReadValidator(schema, format_checker=OAS30ReadValidator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message[:300]}"
            for error in validator.iter_errors(instance)]
