"""The shapes the API's answers and requests take (OpenAPI 3.1 components), with the
models' own lists of states and reasons, never copies."""

from tracker.api.models import ACTION_OUTCOMES, ACTION_TYPES
from tracker.counts.models import COUNT_STATES, SCOPES
from tracker.database import LARGEST_ID
from tracker.deliveries.handover import REPORT_MOVES
from tracker.deliveries.models import DELIVERY_STATUSES, ITEM_STATUSES, MISSING_REASONS
from tracker.devices.models import CONDITIONS, STATUSES

REPORT_REASONS = tuple(REPORT_MOVES)


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict, description: str) -> dict:
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
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}


# Every field an action may carry, described once; each type of action takes its own.
ACTION_PROPERTIES = {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
    "type": {"type": "string", "enum": list(ACTION_TYPES)},
    "delivery_id": {**ID, "description": "scan, handover, report: the delivery"},
    "count_id": {**ID, "description": "count_scan: the count"},
    "school_id": {
        **ID,
        "description": "count_scan: the school the tablet is found at (a count of schools)",
    },
    "depot_id": {
        **ID,
        "description": "count_scan: the depot the tablet is found at (a count of a depot), "
        "instead of school_id",
    },
    "condition": {
        "type": "string",
        "enum": list(CONDITIONS),
        "description": "count_scan: the tablet's condition, when noted",
    },
    "user_id": {
        **ID,
        "description": "Who queued it on the phone; refused when sent by someone else",
    },
    "at": {"type": "string", "format": "date-time", "description": "The phone's time"},
    "code": {
        "type": "string",
        "maxLength": 300,
        "description": "scan, report, count_scan: any code the box takes",
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
    "school_code": {
        "type": "string",
        "maxLength": 20,
        "description": "handover: the code the school received by SMS (7 digits, the "
        "last a Damm check digit)",
    },
    "code_typed_offline": {
        "type": ["boolean", "null"],
        "description": "handover: the code was typed with no network, so no one "
        "could ask the server. A wrong one then records the hand-over as not "
        "confirmed by the school (an alert) instead of refusing it.",
    },
    "no_code_reason": {
        "type": "string",
        "maxLength": 300,
        "description": "handover: why it is handed over without the school's code",
    },
    "school_receipt": {
        "type": "string",
        "maxLength": 600,
        "description": "handover: the school's receipt as its phone signed it (the "
        "QR's text, `TR1.<delivery>.<unix time>.<key>.<tablets>.<missing>.<damaged>."
        "<signature>`). Checked again here: a bad one leaves the hand-over recorded, "
        "not confirmed by the school, with a warning.",
    },
    "received": {
        "type": "array",
        "maxItems": 10000,
        "items": ID,
        "description": "receipt: the tablets the school received",
    },
    "damaged": {
        "type": "array",
        "maxItems": 10000,
        "items": ID,
        "description": "receipt: the tablets received damaged",
    },
    "extras": {
        "type": "array",
        "maxItems": 200,
        "items": {"type": "string", "maxLength": 80},
        "description": "receipt: codes received that were not on the delivery",
    },
    "signed": {
        "type": "string",
        "maxLength": 600,
        "description": "receipt: the same receipt as the school's phone signed it",
    },
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
    "borrower_code": {
        "type": "string",
        "maxLength": 40,
        "description": "lend: the borrower's code (their card), as the school knows it",
    },
    "due_on": {
        "type": ["string", "null"],
        "format": "date",
        "description": "lend: the day it is due back (the programme's default when absent)",
    },
    "accessories": {"type": "string", "maxLength": 200, "description": "lend, take_back"},
    "signed_by": {
        "type": "string",
        "maxLength": 120,
        "description": "lend, sign_loan: the guardian or teacher who signs the agreement",
    },
    "paper": {
        "type": ["string", "null"],
        "description": "sign_loan: a photo of the signed paper, JPEG or PNG, base64 or data URL",
    },
    "fault": {
        "type": "string",
        "maxLength": 2000,
        "description": "take_back: what is wrong, when it comes back damaged",
    },
    "loan_id": {**ID, "description": "sign_loan: the loan"},
    "new_borrower": {
        "type": ["object", "null"],
        "description": "lend: the borrower to add when the school does not know the code",
        "properties": {
            "kind": {"type": "string", "enum": ["pupil", "teacher"]},
            "name": {"type": "string", "maxLength": 120},
            "class_name": {"type": "string", "maxLength": 40},
            "guardian_name": {"type": "string", "maxLength": 120},
            "guardian_phone": {"type": "string", "maxLength": 40},
        },
    },
}
COMMON_FIELDS = ("id", "type", "user_id", "at")
# Which fields each type of action takes, and which of them it needs.
ACTION_FIELDS = {
    "scan": (("delivery_id", "code"), ()),
    "handover": (
        ("delivery_id",),
        (
            "recipient_name",
            "recipient_role",
            "signature",
            "photo",
            "latitude",
            "longitude",
            "accuracy",
            "notes",
            "school_code",
            "code_typed_offline",
            "no_code_reason",
            "school_receipt",
            "missing",
        ),
    ),
    "report": (("delivery_id", "code", "reason"), ("note",)),
    "count_scan": (("count_id", "code"), ("school_id", "depot_id", "condition")),
    "receipt": (("delivery_id",), ("received", "damaged", "extras", "notes", "signed")),
    "lend": (
        ("school_id", "code", "borrower_code"),
        ("due_on", "condition", "accessories", "signed_by", "signature", "new_borrower"),
    ),
    "take_back": (("school_id", "code", "condition"), ("accessories", "fault", "photo")),
    "sign_loan": (("loan_id", "signed_by"), ("signature", "paper")),
}
ACTION_NAMES = {
    "scan": "ScanAction",
    "handover": "HandoverAction",
    "report": "ReportAction",
    "count_scan": "CountScanAction",
    "receipt": "ReceiptAction",
    "lend": "LendAction",
    "take_back": "TakeBackAction",
    "sign_loan": "SignLoanAction",
}
ACTION_SUMMARIES = {
    "scan": "A tablet scanned at the school for a delivery",
    "handover": "The hand-over of a delivery: who received, their signature, a photo, the "
    "school's code or receipt, and why each tablet not handed over was not",
    "report": "A tablet of a delivery found faulty or lost on the road",
    "count_scan": "A tablet found at a school (or a depot) during a count",
    "receipt": "The school's own receipt of a delivery: what it received, damaged, and "
    "found besides",
    "lend": "A tablet of the school lent to a borrower at its desk (the borrower added when "
    "the school does not know the code yet), maybe with the agreement signed on the screen",
    "take_back": "A tablet brought back to the school's desk, with its condition; one "
    "brought back damaged needs what is wrong (and may have a photo): its repair case opens",
    "sign_loan": "A loan's agreement signed on the screen, or a photo of the signed paper",
}


def _typed_action(kind: str) -> dict:
    """One type of action: its own fields, `type` fixed to its name (the discriminator)."""
    needed, optional = ACTION_FIELDS[kind]
    properties = {name: ACTION_PROPERTIES[name] for name in (*COMMON_FIELDS, *needed, *optional)}
    properties["type"] = {"type": "string", "enum": [kind]}
    return {
        "type": "object",
        "required": ["id", "type", *needed],
        "properties": properties,
        "description": f"{ACTION_SUMMARIES[kind]}. `id` is made by the phone (a UUID) and "
        "makes the action count once for its user, however often it is sent.",
    }


ACTION = {
    "oneOf": [ref(ACTION_NAMES[kind]) for kind in ACTION_TYPES],
    "discriminator": {
        "propertyName": "type",
        "mapping": {kind: f"#/components/schemas/{ACTION_NAMES[kind]}" for kind in ACTION_TYPES},
    },
    "description": "One action queued on the phone, of the type its `type` names. Types are "
    "checked, not coerced; text holds no control character but tab and newline.",
}

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
            "school": ref("School"),
            "counts": ref("Counts"),
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
            "imei2": NULLABLE_TEXT,
            "brand": {"type": "string"},
            "donor_ref": {"type": "string"},
            "donor_delivered_on": NULLABLE_DATE,
            "warranty_until": NULLABLE_DATE,
            "last_seen_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "The last scan, hand-over or return",
            },
        },
    },
    "ManifestItem": {
        "allOf": [
            ref("Device"),
            {
                "type": "object",
                "required": ["item_status"],
                "properties": {"item_status": {"type": "string", "enum": list(ITEM_STATUSES)}},
            },
        ]
    },
    **{
        name: schema
        for name, schema in (
            ("Action", ACTION),
            *((f"{ACTION_NAMES[kind]}", _typed_action(kind)) for kind in ACTION_TYPES),
        )
    },
    "Borrower": {
        "type": "object",
        "required": ["id", "code", "kind", "name", "class_name"],
        "description": "A pupil or teacher a school lends tablets to (its staff and the "
        "office only)",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "kind": {"type": "string", "enum": ["pupil", "teacher"]},
            "name": {"type": "string"},
            "class_name": {"type": "string"},
            "guardian_name": {"type": "string"},
            "guardian_phone": {"type": "string"},
        },
    },
    "Loan": {
        "type": "object",
        "required": ["id", "tablet", "borrower", "lent_at", "due_on", "overdue", "signed"],
        "properties": {
            "id": {"type": "integer"},
            "tablet": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "asset_tag": {"type": "string"}},
            },
            "borrower": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "code": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
            "lent_at": {"type": "string", "format": "date-time"},
            "due_on": {"type": "string", "format": "date"},
            "overdue": {"type": "boolean"},
            "signed": {"type": "boolean", "description": "The agreement is signed"},
            "condition_out": {"type": "string", "enum": ["good", "fair", "damaged"]},
            "ended_at": {"type": ["string", "null"], "format": "date-time"},
            "ended_as": {"type": ["string", "null"], "enum": ["returned", "lost", "faulty", None]},
            "condition_back": {
                "type": ["string", "null"],
                "enum": ["good", "fair", "damaged", None],
            },
        },
    },
    "SchoolKey": {
        "type": "object",
        "required": ["id", "public_key", "name"],
        "description": "The public half of a school phone's key: what checks a receipt it "
        "signed. Nothing in it lets anyone sign one.",
        "properties": {
            "id": {"type": "integer"},
            "public_key": {"type": "string", "description": "SubjectPublicKeyInfo, DER, base 64"},
            "name": {"type": "string", "description": "Whose phone it is"},
        },
    },
    "PhoneKey": {
        "type": "object",
        "required": ["id", "label", "created_at", "revoked_at"],
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "IncomingDelivery": {
        "type": "object",
        "required": ["id", "reference", "status", "school", "tablets", "receipt", "proof"],
        "description": "A delivery to one of the school user's schools, from dispatch on",
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string", "examples": ["DEL-00012"]},
            "status": {"type": "string", "enum": list(DELIVERY_STATUSES)},
            "planned_on": NULLABLE_DATE,
            "dispatched_at": {"type": ["string", "null"], "format": "date-time"},
            "agent": NULLABLE_TEXT,
            "school": ref("School"),
            "tablets": {
                "type": "array",
                "description": "In the order a signed receipt numbers them (by id)",
                "items": {
                    "type": "object",
                    "required": ["id", "asset_tag", "serial"],
                    "properties": {
                        "id": {"type": "integer"},
                        "asset_tag": {"type": "string"},
                        "serial": {"type": "string"},
                        "imei": NULLABLE_TEXT,
                        "qr_token": {"type": "string"},
                        "school_said": {
                            "type": ["string", "null"],
                            "enum": ["received", "damaged", "missing", None],
                        },
                    },
                },
            },
            "receipt": {
                "type": ["object", "null"],
                "properties": {
                    "proof": {"type": "string", "enum": ["account", "signed"]},
                    "received_at": {"type": "string", "format": "date-time"},
                    "matched": {"type": ["string", "null"], "enum": ["agrees", "differs", None]},
                },
            },
            "proof": {
                "type": ["string", "null"],
                "enum": [
                    "school_signed",
                    "school_account",
                    "school_code",
                    "agent_only",
                    "paper",
                    None,
                ],
                "description": "The hand-over's proof, once handed over",
            },
        },
    },
    "Count": {
        "type": "object",
        "required": ["id", "name", "scope", "starts_on", "ends_on", "status", "schools"],
        "properties": {
            "id": ID,
            "name": {"type": "string"},
            "scope": {"type": "string", "enum": list(SCOPES)},
            "starts_on": {"type": "string", "format": "date"},
            "ends_on": {"type": "string", "format": "date"},
            "status": {"type": "string", "enum": list(COUNT_STATES)},
            "expected": {"type": "integer", "minimum": 0},
            "schools": {"type": "array", "items": ref("School")},
            "depot_id": {
                "type": ["integer", "null"],
                "description": "A count of a depot: the depot (scans name it as depot_id)",
            },
        },
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
            "warning": {
                "type": "boolean",
                "description": "Applied, but the person must read the message: a hand-over "
                "recorded as not confirmed by the school (its code typed offline was wrong, "
                "or the school's receipt was refused)",
            },
        },
    },
}
