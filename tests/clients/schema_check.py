#!/usr/bin/env python3
"""Validate Mastodon API JSON against the community OpenAPI schemas.

The schemas come from the OpenAPI document kept in shared/ beside the repo
(see its PROVENANCE.md). Its path is taken from the environment variable
CASCADE_OPENAPI, or defaults to REPO_ROOT/../shared/mastodon-openapi/
mastodon-openapi.json, resolved from this file's location.

As a module:

    checker = SchemaChecker()          # loads the document once
    checker.errors("Status", obj)      # -> list of readable messages, [] if valid
    checker.check("Status[]", objs)    # raises SchemaError if invalid

As a command:

    python schema_check.py ENTITY_NAME [FILE] < json    # exit 0 valid, 1 invalid
    python schema_check.py --list                        # entity names

ENTITY_NAME is a key of components/schemas (Account, CredentialAccount, Status,
Relationship, Instance, V1Instance, Application, CredentialApplication, Token,
Error, ...). A trailing "[]" (e.g. "Status[]") means a JSON array of them.

Validation uses JSON Schema 2020-12 (the OpenAPI 3.1 dialect) with format
checking, so "date-time" and "uri" strings are checked too (through the
rfc3339-validator and rfc3986-validator packages). `$ref:
#/components/schemas/X` resolves inside the OpenAPI document through a
referencing registry.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = REPO_ROOT.parent / "shared" / "mastodon-openapi" / "mastodon-openapi.json"
SPEC_URI = "urn:cascade:mastodon-openapi"
# The pseudo-entity of an empty JSON object, `{}`.
EMPTY = "{}"

# Known slips of the generated document, mended in memory (the file stays as
# published). Each entry: (schema name, property, replacement, why).
SPEC_SLIPS = [
    (
        "NotificationGroup",
        "most_recent_notification_id",
        {"type": "string"},
        "typed integer in the spec, but Mastodon serializes every id as a string "
        "(shared/mastodon-openapi/PROVENANCE.md)",
    ),
    (
        "Status",
        "quote",
        {"anyOf": [{"$ref": "#/components/schemas/Quote"},
                   {"$ref": "#/components/schemas/ShallowQuote"},
                   {"type": "null"}]},
        "oneOf [Quote, ShallowQuote, null]: neither branch forbids extra keys and both "
        "require only `state`, so every real quote matches both and oneOf always fails",
    ),
    (
        "StatusEdit",
        "quote",
        {"anyOf": [{"$ref": "#/components/schemas/Quote"},
                   {"$ref": "#/components/schemas/ShallowQuote"},
                   {"type": "null"}]},
        "same oneOf ambiguity as Status.quote",
    ),
] + [
    (
        "PreviewCard",
        prop,
        {"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}]},
        "format uri, but Mastodon sends an empty string when the card has no such link "
        "(as the docs' own Status example shows)",
    )
    for prop in ("author_url", "provider_url", "embed_url")
]

# Formats whose checks need an optional package; without it jsonschema would
# skip them silently, so we insist they are active.
REQUIRED_FORMATS = ("date-time", "uri")


class SchemaError(AssertionError):
    """A JSON document did not match its schema."""


def spec_path() -> Path:
    env = os.environ.get("CASCADE_OPENAPI")
    return Path(env) if env else DEFAULT_SPEC


class SchemaChecker:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else spec_path()
        if not self.path.is_file():
            raise FileNotFoundError(
                f"OpenAPI document not found at {self.path} "
                "(set CASCADE_OPENAPI to its path)"
            )
        with open(self.path, encoding="utf-8") as f:
            document = json.load(f)
        self.schemas: dict[str, Any] = document["components"]["schemas"]
        for name, prop, replacement, _why in SPEC_SLIPS:
            schema = self.schemas.get(name, {})
            if prop in schema.get("properties", {}):
                description = schema["properties"][prop].get("description")
                schema["properties"][prop] = dict(copy.deepcopy(replacement))
                if description:
                    schema["properties"][prop]["description"] = description
        registry = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(document))
        self._registry = registry
        self._format_checker = Draft202012Validator.FORMAT_CHECKER
        missing = [f for f in REQUIRED_FORMATS if f not in self._format_checker.checkers]
        if missing:
            raise RuntimeError(
                f"format checks {missing} are unavailable: install the packages in "
                "tests/clients/requirements.txt (rfc3339-validator, rfc3986-validator)"
            )
        self._validators: dict[str, Draft202012Validator] = {}

    def entities(self) -> list[str]:
        return sorted(self.schemas)

    def validator(self, entity: str) -> Draft202012Validator:
        if entity == EMPTY:
            # Mastodon answers `{}` where it has nothing to say (an admin action, a
            # dismissal); the document names no schema for it.
            return Draft202012Validator({"type": "object", "maxProperties": 0})
        if entity not in self._validators:
            name = entity[:-2] if entity.endswith("[]") else entity
            if name not in self.schemas:
                raise KeyError(f"no schema named {name!r} in {self.path}")
            schema: dict[str, Any] = {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}
            if entity.endswith("[]"):
                schema = {"type": "array", "items": schema}
            self._validators[entity] = Draft202012Validator(
                schema, registry=self._registry, format_checker=self._format_checker
            )
        return self._validators[entity]

    def errors(self, entity: str, instance: Any) -> list[str]:
        found = sorted(self.validator(entity).iter_errors(instance), key=lambda e: list(e.path))
        return [describe(e) for e in found]

    def check(self, entity: str, instance: Any, what: str = "") -> None:
        errors = self.errors(entity, instance)
        if errors:
            head = f"{what or 'JSON'} is not a valid {entity} ({len(errors)} error(s)):"
            shown = errors[:20]
            more = [f"... and {len(errors) - len(shown)} more"] if len(errors) > len(shown) else []
            raise SchemaError("\n  ".join([head, *shown, *more]))


def describe(error: ValidationError) -> str:
    where = error.json_path
    message = shorten(error.message)
    if error.context:
        # For oneOf/anyOf, say why the closest branch failed.
        deepest = max(error.context, key=lambda e: len(e.absolute_path))
        message += f" [closest branch: {deepest.json_path}: {shorten(deepest.message)}]"
    return f"{where}: {message}"


def shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(SchemaChecker().entities()))
        return 0
    if len(argv) not in (2, 3) or argv[1].startswith("-"):
        print(f"usage: {argv[0]} ENTITY_NAME[[]] [FILE] < json\n       {argv[0]} --list",
              file=sys.stderr)
        return 2
    entity = argv[1]
    try:
        if len(argv) == 3:
            with open(argv[2], encoding="utf-8") as f:
                instance = json.load(f)
        else:
            instance = json.load(sys.stdin)
    except (OSError, json.JSONDecodeError) as e:
        print(f"cannot read JSON: {e}", file=sys.stderr)
        return 2
    checker = SchemaChecker()
    try:
        checker.check(entity, instance)
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 2
    except SchemaError as e:
        print(f"INVALID: {e}", file=sys.stderr)
        return 1
    print(f"valid {entity}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
