"""The OpenAPI 3.1 description of /api/v1/, served at /api/v1/openapi.json.

Kept beside the views it describes; a test validates it and calls every path in it, and
schemathesis checks every answer against it. Its lists of states and reasons are the
models' own, never copies.
"""

from flask import current_app

from tracker.api.models import ACTION_OUTCOMES, ACTION_TYPES
from tracker.database import LARGEST_ID
from tracker.deliveries.handover import REPORT_MOVES
from tracker.deliveries.models import DELIVERY_STATUSES, ITEM_STATUSES, MISSING_REASONS
from tracker.devices.models import STATUSES

REPORT_REASONS = tuple(REPORT_MOVES)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    # Any address or query string with a NUL in it (no text holds one).
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
    "503": {"$ref": "#/components/responses/Busy"},
}
NOT_FOUND = {"404": {"$ref": "#/components/responses/NotFound"}}
ID = {"type": "integer", "minimum": 1, "maximum": LARGEST_ID}
QUERY_TEXT = {"type": "string", "pattern": "^[^\\x00]*$"}
NULLABLE_TEXT = {"type": ["string", "null"]}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "School": {
        "type": "object",
        "required": ["id", "code", "name_fr", "name_ar", "region"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name_fr": {"type": "string"},
            "name_ar": {"type": "string"},
            "region": {"type": "string"},
            "province": {"type": "string"},
            "commune": {"type": "string"},
            "latitude": {"type": ["number", "null"]},
            "longitude": {"type": ["number", "null"]},
            "contact_name": {"type": "string"},
            "contact_phone": {"type": "string"},
        },
    },
    "Counts": {
        "type": "object",
        "required": ["expected", "scanned", "missing", "unexpected"],
        "properties": {
            name: {"type": "integer", "minimum": 0}
            for name in ("expected", "packed", "scanned", "missing", "unexpected")
        },
    },
    "Delivery": {
        "type": "object",
        "required": ["id", "reference", "status", "school", "counts"],
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string", "examples": ["DEL-00012"]},
            "status": {"type": "string", "enum": list(DELIVERY_STATUSES)},
            "planned_on": {"type": ["string", "null"], "format": "date"},
            "assigned_to": NULLABLE_TEXT,
            "school": _ref("School"),
            "counts": _ref("Counts"),
        },
    },
    "Device": {
        "type": "object",
        "required": ["id", "asset_tag", "serial", "status", "qr_token", "qr_url"],
        "properties": {
            "id": {"type": "integer"},
            "asset_tag": {"type": "string"},
            "serial": {"type": "string"},
            "imei": NULLABLE_TEXT,
            "model": {"type": "string"},
            "status": {"type": "string", "enum": list(STATUSES)},
            "qr_token": {"type": "string"},
            "qr_url": {"type": "string"},
            "school_code": NULLABLE_TEXT,
        },
    },
    "ManifestItem": {
        "allOf": [
            _ref("Device"),
            {
                "type": "object",
                "required": ["item_status"],
                "properties": {"item_status": {"type": "string", "enum": list(ITEM_STATUSES)}},
            },
        ]
    },
    "Action": {
        "type": "object",
        "required": ["id", "type", "delivery_id"],
        "properties": {
            "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
            "type": {"type": "string", "enum": list(ACTION_TYPES)},
            "delivery_id": ID,
            "user_id": {
                **ID,
                "description": "Who queued it on the phone; refused when sent by someone else",
            },
            "at": {"type": "string", "format": "date-time", "description": "The phone's time"},
            "code": {
                "type": "string",
                "maxLength": 300,
                "description": "scan, report: any code the box takes",
            },
            "reason": {"type": "string", "enum": list(REPORT_REASONS), "description": "report"},
            "note": {"type": "string", "maxLength": 300},
            "recipient_name": {"type": "string", "maxLength": 120},
            "recipient_role": {"type": "string", "maxLength": 120},
            "signature": {"type": "string", "description": "PNG, base64 or a data URL"},
            "photo": {"type": ["string", "null"], "description": "JPEG or PNG, base64 or data URL"},
            "latitude": {"type": ["number", "null"], "minimum": -90, "maximum": 90},
            "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
            "accuracy": {"type": ["number", "null"], "minimum": 0, "description": "metres"},
            "notes": {"type": "string", "maxLength": 2000},
            "missing": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["reason"],
                    "properties": {
                        "code": {"type": "string", "maxLength": 300},
                        "device_id": ID,
                        "reason": {"type": "string", "enum": list(MISSING_REASONS)},
                    },
                },
            },
        },
        "description": "One action queued on the phone. `id` is made by the phone (a UUID) "
        "and makes the action count once for its user, however often it is sent. Types are "
        "checked, not coerced; text holds no control character but tab and newline.",
    },
    "ActionResult": {
        "type": "object",
        "required": ["id", "status", "message"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": [*ACTION_OUTCOMES, "duplicate"]},
            "message": {"type": "string"},
            "original": {
                "type": "string",
                "enum": list(ACTION_OUTCOMES),
                "description": "For a duplicate: what the first copy got",
            },
        },
    },
}


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
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["id", "email", "role"],
                                "properties": {
                                    "id": {"type": "integer"},
                                    "email": {"type": "string"},
                                    "name": {"type": "string"},
                                    "role": {"type": "string"},
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
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["deliveries"],
                                "properties": {
                                    "deliveries": {"type": "array", "items": _ref("Delivery")}
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
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["delivery", "may_act", "items"],
                                "properties": {
                                    "delivery": _ref("Delivery"),
                                    "may_act": {"type": "boolean"},
                                    "items": {"type": "array", "items": _ref("ManifestItem")},
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
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["device"],
                                "properties": {"device": _ref("Device")},
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
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["schools", "next_offset"],
                                "properties": {
                                    "schools": {"type": "array", "items": _ref("School")},
                                    "next_offset": {"type": ["integer", "null"]},
                                },
                            },
                            "A page of schools",
                        ),
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
                                            "description": "Each an `Action` object. An action "
                                            "that does not match `Action` is answered "
                                            "`rejected` with the reason, and the others are "
                                            "still applied.",
                                            "items": {"type": "object"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "required": ["results"],
                                "properties": {
                                    "results": {"type": "array", "items": _ref("ActionResult")},
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
                        "400": _json(
                            _ref("Error"),
                            "The body is not {actions: [...]} of objects, or has more than 500",
                        ),
                        "413": _json(_ref("Error"), "The body is larger than the server takes"),
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
                "Unauthorized": _json(_ref("Error"), "No valid token or session"),
                "Forbidden": _json(_ref("Error"), "The role may not do this"),
                "NotFound": _json(_ref("Error"), "Nothing there, or not yours"),
                "BadRequest": _json(_ref("Error"), "A parameter is not as described"),
                "Busy": _json(_ref("Error"), "The database is busy; nothing was saved"),
            },
        },
    }
