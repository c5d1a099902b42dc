"""The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json: its paths here,
the shapes they answer with in `schemas.py`.

Kept beside the views it describes; a test validates it and calls every path in it, and
schemathesis checks every answer against it.
"""

from flask import current_app

from tracker.api.schemas import (
    ERRORS,
    ID,
    NOT_FOUND,
    QUERY_TEXT,
    SCHEMAS,
    json_body,
    ref,
)
from tracker.counts.models import LINE_STATES

OFFSET = {
    "name": "offset",
    "in": "query",
    "schema": {"type": "integer", "minimum": 0, "maximum": 10**9},
    "description": "Where the page starts (`next_offset` of the page before)",
}

# A real P-256 public key (its private half thrown away): the document's example registers.
EXAMPLE_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE+bJ6bfXETr55fNmw+n+z2rjkPW2UYHglkwNUNIjgCVF9J2BdTKFX"
    "iX95z3OdOOOMBT9eLHQL440ASRoSOENKUA=="
)


def openapi_document() -> dict:
    base = current_app.config.get("BASE_URL", "")
    prefix = current_app.config.get("ASSET_TAG_PREFIX", "TAB")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tracker API",
            "version": "1",
            "description": "Deliveries, devices and schools for the offline field app and "
            "for integrations. Role and object rules are those of the web app.",
        },
        "servers": [{"url": f"{base}/api/v1"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/me": {
                "get": {
                    "summary": "Who the token or session belongs to",
                    "operationId": "me",
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["id", "email", "role"],
                                "properties": {
                                    "id": {"type": "integer"},
                                    "email": {"type": "string"},
                                    "name": {"type": "string"},
                                    "role": {"type": "string"},
                                    "locale": {
                                        "type": "string",
                                        "description": "The language the user reads: fr, ar or en",
                                    },
                                    "csrf_token": {
                                        "type": "string",
                                        "description": "Session only: send it as X-CSRFToken",
                                    },
                                },
                            },
                            "The user",
                        ),
                        **ERRORS,
                    },
                }
            },
            "/deliveries": {
                "get": {
                    "summary": "My deliveries (a field agent's own; the office sees all)",
                    "operationId": "listDeliveries",
                    "parameters": [{"name": "status", "in": "query", "schema": QUERY_TEXT}],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["deliveries"],
                                "properties": {
                                    "deliveries": {"type": "array", "items": ref("Delivery")}
                                },
                            },
                            "Deliveries, newest planned first",
                        ),
                        **ERRORS,
                    },
                }
            },
            "/deliveries/{delivery_id}": {
                "get": {
                    "summary": "A delivery's manifest: the tablets expected, to work offline",
                    "operationId": "getManifest",
                    "parameters": [
                        {"name": "delivery_id", "in": "path", "required": True, "schema": ID}
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["delivery", "may_act", "items"],
                                "properties": {
                                    "delivery": ref("Delivery"),
                                    "may_act": {"type": "boolean"},
                                    "school_code_check": {
                                        "type": ["object", "null"],
                                        "description": "How the school's code is written, "
                                        "so a phone with no network can catch a typo: its "
                                        "digits and its check digit (Damm); null when no "
                                        "code was sent. Never the code, nor anything "
                                        "derived from it: the server judges it on sync.",
                                        "properties": {
                                            "digits": {"type": "integer"},
                                            "check_digit": {
                                                "type": ["string", "null"],
                                                "enum": ["damm", None],
                                            },
                                            "expires_on": {"type": ["string", "null"]},
                                        },
                                    },
                                    "items": {"type": "array", "items": ref("ManifestItem")},
                                    "school_keys": {
                                        "type": "array",
                                        "items": ref("SchoolKey"),
                                        "description": "The school's phones' public keys: a "
                                        "receipt the school signed is checked with them, "
                                        "offline",
                                    },
                                },
                            },
                            "The delivery and its tablets",
                        ),
                        **NOT_FOUND,
                        **ERRORS,
                    },
                }
            },
            "/devices/lookup": {
                "get": {
                    "summary": "A device by QR URL, token, asset tag, serial or IMEI",
                    "operationId": "lookupDevice",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "query",
                            "required": True,
                            "description": "What a scan or a person types: the QR URL, the "
                            "QR token, an asset tag in any form (TAB-00042, tab42), a serial or "
                            "an IMEI",
                            "schema": QUERY_TEXT,
                            "examples": {
                                name: {"value": value}
                                for name, value in (
                                    ("asset_tag", f"{prefix}-00001"),
                                    ("short_tag", f"{prefix.lower()}1"),
                                    ("serial", "SN00000001"),
                                    ("imei", "350000000000017"),
                                    ("qr_url", f"{base}/d/unknown-token"),
                                )
                            },
                        }
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["device"],
                                "properties": {"device": ref("Device")},
                            },
                            "The device",
                        ),
                        **NOT_FOUND,
                        **ERRORS,
                    },
                }
            },
            "/schools": {
                "get": {
                    "summary": "Schools by search and filters, 200 a page",
                    "operationId": "listSchools",
                    "parameters": [
                        *(
                            {"name": name, "in": "query", "schema": QUERY_TEXT}
                            for name in ("q", "region", "province")
                        ),
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0, "maximum": 10**9},
                        },
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["schools", "next_offset"],
                                "properties": {
                                    "schools": {"type": "array", "items": ref("School")},
                                    "next_offset": {"type": ["integer", "null"]},
                                },
                            },
                            "A page of schools",
                        ),
                        **ERRORS,
                    },
                }
            },
            "/my-school/deliveries": {
                "get": {
                    "summary": "A school user's schools' deliveries from dispatch on, with "
                    "their tablets: what the school's phone keeps to confirm receipt offline",
                    "operationId": "listIncomingDeliveries",
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["deliveries"],
                                "properties": {
                                    "deliveries": {
                                        "type": "array",
                                        "items": ref("IncomingDelivery"),
                                    }
                                },
                            },
                            "The deliveries",
                        ),
                        **ERRORS,
                    },
                }
            },
            "/my-school/deliveries/{delivery_id}": {
                "get": {
                    "summary": "One delivery to the school user's schools",
                    "operationId": "getIncomingDelivery",
                    "parameters": [
                        {"name": "delivery_id", "in": "path", "required": True, "schema": ID}
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["delivery"],
                                "properties": {"delivery": ref("IncomingDelivery")},
                            },
                            "The delivery",
                        ),
                        **NOT_FOUND,
                        **ERRORS,
                    },
                }
            },
            "/phone-keys": {
                "get": {
                    "summary": "The school user's phones that sign receipts",
                    "operationId": "listPhoneKeys",
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["phone_keys"],
                                "properties": {
                                    "phone_keys": {"type": "array", "items": ref("PhoneKey")}
                                },
                            },
                            "The phones",
                        ),
                        **ERRORS,
                    },
                },
                "post": {
                    "summary": "Register this phone's public key (ECDSA P-256, made by "
                    "WebCrypto; the same key again answers the same phone)",
                    "operationId": "registerPhoneKey",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["public_key"],
                                    "properties": {
                                        "public_key": {
                                            "type": "string",
                                            "maxLength": 200,
                                            "description": "SubjectPublicKeyInfo, DER, base 64 "
                                            "(WebCrypto's exportKey('spki') of a P-256 key)",
                                            "examples": [EXAMPLE_PUBLIC_KEY],
                                        },
                                        "label": {"type": "string", "maxLength": 80},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": json_body(
                            {
                                "type": "object",
                                "required": ["phone_key"],
                                "properties": {"phone_key": ref("PhoneKey")},
                            },
                            "The phone, registered",
                        ),
                        **ERRORS,
                    },
                },
            },
            "/counts": {
                "get": {
                    "summary": "The open counts the user may scan at (a school's staff: "
                    "those at their schools, with them)",
                    "operationId": "listCounts",
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["counts"],
                                "properties": {"counts": {"type": "array", "items": ref("Count")}},
                            },
                            "The open counts",
                        ),
                        **ERRORS,
                    },
                }
            },
            "/schools/{school_id}/borrowers": {
                "get": {
                    "summary": "A school's borrowers, a page at a time: what a lending desk "
                    "on a phone keeps (its staff and the office only: names are theirs)",
                    "operationId": "listBorrowers",
                    "parameters": [
                        {"name": "school_id", "in": "path", "required": True, "schema": ID},
                        {
                            "name": "q",
                            "in": "query",
                            "schema": {**QUERY_TEXT, "maxLength": 100},
                            "description": "A borrower's code, or part of a name",
                        },
                        {
                            "name": "class",
                            "in": "query",
                            "schema": {**QUERY_TEXT, "maxLength": 40},
                        },
                        OFFSET,
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["borrowers", "next_offset"],
                                "properties": {
                                    "borrowers": {"type": "array", "items": ref("Borrower")},
                                    "next_offset": {"type": ["integer", "null"]},
                                },
                            },
                            "The school's borrowers, by class then name",
                        ),
                        **ERRORS,
                        **NOT_FOUND,
                        "400": json_body(ref("Error"), "'offset' is not a whole number"),
                    },
                }
            },
            "/schools/{school_id}/loans": {
                "get": {
                    "summary": "A school's loans: open (the overdue first), overdue, or ended "
                    "(lending, taking back and signing go to /sync as lend, take_back and "
                    "sign_loan)",
                    "operationId": "listLoans",
                    "parameters": [
                        {"name": "school_id", "in": "path", "required": True, "schema": ID},
                        {
                            "name": "list",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["open", "overdue", "ended"]},
                        },
                        OFFSET,
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["loans", "next_offset"],
                                "properties": {
                                    "loans": {"type": "array", "items": ref("Loan")},
                                    "next_offset": {"type": ["integer", "null"]},
                                },
                            },
                            "The loans of the list asked",
                        ),
                        **ERRORS,
                        **NOT_FOUND,
                        "400": json_body(ref("Error"), "An unknown list or offset"),
                    },
                }
            },
            "/counts/{count_id}/schools/{school_id}": {
                "get": {
                    "summary": "A school's list in a count and what became of each tablet: "
                    "what a phone keeps to count offline (scans go to /sync as count_scan)",
                    "operationId": "getCountAtSchool",
                    "parameters": [
                        {"name": "count_id", "in": "path", "required": True, "schema": ID},
                        {"name": "school_id", "in": "path", "required": True, "schema": ID},
                    ],
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["count", "figures", "tablets"],
                                "properties": {
                                    "count": ref("Count"),
                                    "figures": {
                                        "type": "object",
                                        "properties": {
                                            key: {"type": "integer", "minimum": 0}
                                            for key in (
                                                "expected",
                                                "found",
                                                "not_seen",
                                                "missing",
                                                "unexpected",
                                            )
                                        },
                                    },
                                    "tablets": {
                                        "type": "array",
                                        "items": {
                                            "allOf": [ref("Device")],
                                            "properties": {
                                                "line_status": {
                                                    "type": "string",
                                                    "enum": list(LINE_STATES),
                                                }
                                            },
                                        },
                                    },
                                },
                            },
                            "The school's list",
                        ),
                        **NOT_FOUND,
                        **ERRORS,
                    },
                }
            },
            "/sync": {
                "post": {
                    "summary": "Send queued actions; each is applied at most once",
                    "operationId": "sync",
                    "description": "Actions are applied in order, each in its own "
                    "transaction: a rejected action does not stop the others. An id seen "
                    "before answers `duplicate` with the first answer in `original`.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["actions"],
                                    "properties": {
                                        "actions": {
                                            "type": "array",
                                            "maxItems": 500,
                                            "description": "Each an `Action`, typed by its "
                                            "`type`. An action that does not match its type "
                                            "is answered `rejected` with the reason (in the "
                                            "200 answer, not as an error: a phone's queue "
                                            "never stalls on one bad action), and the others "
                                            "are still applied.",
                                            "items": ref("Action"),
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": json_body(
                            {
                                "type": "object",
                                "required": ["results"],
                                "properties": {
                                    "results": {"type": "array", "items": ref("ActionResult")},
                                    "unanswered": {
                                        "type": "integer",
                                        "minimum": 0,
                                        "description": "Actions at the end left unanswered "
                                        "(the request decoded all the pictures it may): keep "
                                        "them queued and send them again",
                                    },
                                },
                            },
                            "One result per action answered, in order",
                        ),
                        **ERRORS,
                        "400": json_body(
                            ref("Error"),
                            "The body is not {actions: [...]} of objects, or has more than 500",
                        ),
                        "413": json_body(ref("Error"), "The body is larger than the server takes"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "security": [],
                    "responses": {"200": {"description": "The OpenAPI document"}},
                }
            },
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `tracker users token EMAIL`",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The browser app's session; POSTs also send X-CSRFToken",
                },
            },
            "responses": {
                "Unauthorized": json_body(ref("Error"), "No valid token or session"),
                "Forbidden": json_body(ref("Error"), "The role may not do this"),
                "NotFound": json_body(ref("Error"), "Nothing there, or not yours"),
                "BadRequest": json_body(ref("Error"), "A parameter is not as described"),
                "Busy": json_body(ref("Error"), "The database is busy; nothing was saved"),
            },
        },
    }
