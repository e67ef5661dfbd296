"""Every model, imported so that ``Base.metadata`` is complete.

Each area keeps its models in its own module here; all of them are imported.
"""

from cxloop.plugins import submodules
from cxloop.store.base import Base
from cxloop.store.models.auth import ApiKey, AuditEntry, WebSession
from cxloop.store.models.customers import Customer, CustomerIdentity
from cxloop.store.models.org import OrgUnit, User, UserUnit

submodules(__name__)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "Base",
    "Customer",
    "CustomerIdentity",
    "OrgUnit",
    "User",
    "UserUnit",
    "WebSession",
]
