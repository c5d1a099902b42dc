"""Every feature's models in one place, so Alembic and the tests see the whole schema."""

from tracker.allocations.models import Allocation, AllocationPlan, PlanEvent
from tracker.api.models import SyncAction
from tracker.auth.models import ApiToken, EndedSession, Invitation, LoginFailure, User
from tracker.counts.models import Count, CountExtra, CountLine
from tracker.dashboard.models import AlertNote
from tracker.database import Base
from tracker.deliveries.models import Delivery, DeliveryItem, PhoneKey, SchoolReceipt
from tracker.devices.models import Counter, Device, DeviceEvent, RetiredQrToken
from tracker.donations.models import Donation, Donor
from tracker.jobs.models import FileChunk, Job, StoredFile
from tracker.loans.models import Borrower, Loan
from tracker.messages.models import MessageAttempt, MessageOptOut, OutboxMessage
from tracker.repairs.models import RepairCase, RepairPhoto
from tracker.schools.models import School, SchoolStaff
from tracker.spreadsheets.models import ColumnChoice, ImportBatch
from tracker.transfers.models import Transfer

__all__ = [
    "AlertNote",
    "Allocation",
    "ApiToken",
    "AllocationPlan",
    "Base",
    "Borrower",
    "Count",
    "CountExtra",
    "CountLine",
    "Counter",
    "Delivery",
    "DeliveryItem",
    "Device",
    "PhoneKey",
    "SchoolReceipt",
    "DeviceEvent",
    "EndedSession",
    "FileChunk",
    "Job",
    "StoredFile",
    "Donation",
    "Donor",
    "ColumnChoice",
    "ImportBatch",
    "Invitation",
    "Loan",
    "LoginFailure",
    "MessageAttempt",
    "MessageOptOut",
    "OutboxMessage",
    "PlanEvent",
    "RepairCase",
    "RepairPhoto",
    "RetiredQrToken",
    "School",
    "SchoolStaff",
    "SyncAction",
    "Transfer",
    "User",
]
