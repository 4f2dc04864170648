"""The ledger's tables. Import from here: ``from ledger.models import Batch, Event``."""

from ledger.models.base import (
    AnchorStatus,
    Base,
    Category,
    ChainJobStatus,
    CodeKind,
    CodeStatus,
    HoldKind,
    MovementKind,
    RecallStatus,
    Role,
    ShipmentStatus,
    utcnow,
)
from ledger.models.control import (
    Anchor,
    ChainJob,
    Hold,
    IdempotencyRecord,
    OutboxEntry,
    Recall,
    RecallTarget,
    VerifyCheckpoint,
)
from ledger.models.events import Event, EventBatch, EventEpc, Holding, Movement, Shipment, ShipmentLine, Transformation
from ledger.models.goods import Batch, Code, CodeRun, Document, Product
from ledger.models.parties import ApiToken, Location, Organisation

__all__ = [
    "Anchor",
    "AnchorStatus",
    "ApiToken",
    "Base",
    "Batch",
    "Category",
    "ChainJob",
    "ChainJobStatus",
    "Code",
    "CodeKind",
    "CodeRun",
    "CodeStatus",
    "Document",
    "Event",
    "EventBatch",
    "EventEpc",
    "Hold",
    "HoldKind",
    "Holding",
    "IdempotencyRecord",
    "Location",
    "Movement",
    "MovementKind",
    "Organisation",
    "OutboxEntry",
    "Product",
    "Recall",
    "RecallStatus",
    "RecallTarget",
    "Role",
    "Shipment",
    "ShipmentLine",
    "ShipmentStatus",
    "Transformation",
    "VerifyCheckpoint",
    "utcnow",
]

from ledger.models.alerts import Alert, AlertKind, AlertStatus, CodeLookups
from ledger.models.coldchain import (
    Excursion,
    ExcursionGoods,
    ExcursionKind,
    ExcursionStatus,
    IngestKind,
    LogEvaluation,
    LogScope,
    ProductProfile,
    ReadingIngest,
    TemperatureLog,
    TemperatureReading,
    VialMonitorReading,
)
from ledger.models.declarations import ErrorDeclaration
from ledger.models.recalls import DeliveryStatus, RecallDetail, RecallHolder, WebhookDelivery

__all__ += ["Alert", "AlertKind", "AlertStatus", "CodeLookups"]

__all__ += ["DeliveryStatus", "RecallDetail", "RecallHolder", "WebhookDelivery"]
__all__ += ["ErrorDeclaration"]
__all__ += [
    "Excursion",
    "ExcursionGoods",
    "ExcursionKind",
    "ExcursionStatus",
    "IngestKind",
    "LogEvaluation",
    "LogScope",
    "ProductProfile",
    "ReadingIngest",
    "TemperatureLog",
    "TemperatureReading",
    "VialMonitorReading",
]
