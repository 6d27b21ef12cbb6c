"""The order-system port: what the actions may ask of a shop's order system.

Adapters: `actions.orders.demo_store.DemoOrderStore` (embedded SQLite demo store) and
`actions.orders.http_adapter.HttpOrderSystem` (a shop's own REST API). Every adapter compares
normalised values (`normalise_order_number`, `normalise_contact`), so "NH-4091 8273" and
" Ingrid.Haugen@Example.no " find and verify the same order as "40918273" and
"ingrid.haugen@example.no".
"""

from __future__ import annotations

import datetime
import hmac
import re
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, Dict, Mapping, Optional, Protocol


class OrderStatus(str, Enum):
    RECEIVED = "received"
    PACKED = "packed"
    SHIPPED = "shipped"
    DELAYED = "delayed"
    AT_PICKUP_POINT = "at_pickup_point"
    DELIVERED = "delivered"
    RETURNED = "returned"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"


# cancel / change address or pickup point only before packing
CHANGEABLE = frozenset({OrderStatus.RECEIVED})

COUNTRIES = ("NO", "DK", "SE")
CARRIERS = ("posten_bring", "postnord", "gls", "dhl", "budbee")
PAYMENT_METHODS = ("card", "klarna", "vipps", "mobilepay", "swish", "gift_card")
DELIVERY_KINDS = ("home", "pickup_point")


@dataclass(frozen=True)
class Order:
    number: str                 # 8 digits, e.g. "40918273" (customers may write "NH-40918273", "4091 8273")
    email: str                  # lower-case
    postcode: str               # NO 4 digits, DK 4 digits, SE 5 digits ("114 55" written with a space)
    country: str                # "NO" | "DK" | "SE"
    status: OrderStatus
    placed_at: datetime.date
    # "card" | "klarna" | "vipps" (NO) | "mobilepay" (DK) | "swish" (SE) | "gift_card"
    payment_method: str
    total: str                  # e.g. "1 249,00 NOK"
    delivery: str               # "home" | "pickup_point"
    address: str                # street address, or the pickup point's name and address
    carrier: Optional[str] = None            # "posten_bring" | "postnord" | "gls" | "dhl" | "budbee"
    tracking_number: Optional[str] = None
    # shipped/delayed: the (new) estimate; delayed may be None
    expected_delivery: Optional[datetime.date] = None
    pickup_deadline: Optional[datetime.date] = None     # at_pickup_point
    delivered_on: Optional[datetime.date] = None


class OrderSystemUnavailable(Exception):
    """The shop's order system did not answer (timeout, 5xx, circuit open)."""


class NotChangeable(Exception):
    """The order is past the point where it can be cancelled or changed (carries .order)."""

    def __init__(self, order: Order) -> None:
        super().__init__(f"order {order.number} is {order.status.value}: it can no longer be changed")
        self.order = order


class UnknownOrder(LookupError):
    """cancel/change_delivery of a number the order system does not know.

    The actions only change verified orders, so this means the order vanished in between.
    """


class OrderSystem(Protocol):
    async def find(self, number: str) -> Optional[Order]:
        """The order with this number, or None."""
        ...

    async def verify(self, number: str, email_or_postcode: str) -> Optional[Order]:
        """The order when the number and the e-mail or postcode on it match; None for an
        unknown number AND for a wrong e-mail/postcode (callers cannot tell them apart)."""
        ...

    async def cancel(self, number: str) -> Order:
        """The cancelled order; NotChangeable unless its status is in CHANGEABLE."""
        ...

    async def change_delivery(self, number: str, *, address: Optional[str] = None,
                              pickup_point: Optional[str] = None) -> Order:
        """The order with its new address or pickup point (exactly one); same rule as cancel."""
        ...


_ORDER_NUMBER = re.compile(r"(?i)^#?\s*(?:NH[\s-]?)?(\d(?:[\s-]?\d){7})$")
# what people put around an e-mail address they paste ("<ingrid@example.no>", "... example.no.")
_AROUND_EMAIL = " \t\r\n<>()[]\"'`,;:."


def normalise_order_number(text: str) -> Optional[str]:
    """The 8 digits of an order number written as "40918273", "NH-40918273", "4091 8273"; else None."""
    match = _ORDER_NUMBER.match((text or "").strip())
    return re.sub(r"\D", "", match.group(1)) if match else None


def normalise_contact(text: str) -> str:
    """An e-mail lower-cased and stripped, or a postcode's digits ("114 55" -> "11455")."""
    text = (text or "").strip()
    if "@" in text:
        return text.strip(_AROUND_EMAIL).lower()
    return re.sub(r"\D", "", text)


def contact_matches(order: Order, email_or_postcode: str) -> bool:
    """Whether the customer's e-mail or postcode is the one on the order.

    Compared in constant time, so that answer times tell nothing about near misses.
    """
    given = normalise_contact(email_or_postcode)
    if not given:
        return False
    expected = order.email.lower() if "@" in given else normalise_contact(order.postcode)
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def order_to_json(order: Order) -> Dict[str, Any]:
    """The order as JSON: the field names of `Order`, dates ISO, the status its value."""
    data = asdict(order)
    data["status"] = order.status.value
    for key, value in data.items():
        if isinstance(value, datetime.date):
            data[key] = value.isoformat()
    return data


_DATE_FIELDS = ("expected_delivery", "pickup_deadline", "delivered_on")
_REQUIRED = ("number", "email", "postcode", "country", "status", "placed_at", "payment_method",
             "total", "delivery", "address")
_OPTIONAL_TEXT = ("carrier", "tracking_number")


def order_from_json(data: Mapping[str, Any]) -> Order:
    """The order in a JSON object shaped like `order_to_json`'s; ValueError when it is not one."""
    if not isinstance(data, Mapping):
        raise ValueError("an order must be a JSON object")
    missing = [key for key in _REQUIRED if not isinstance(data.get(key), str) or not data[key]]
    if missing:
        raise ValueError(f"order without {', '.join(missing)}")
    number = normalise_order_number(data["number"])
    if number is None:
        raise ValueError("the order number is not 8 digits")
    if data["country"] not in COUNTRIES or data["delivery"] not in DELIVERY_KINDS:
        raise ValueError("unknown country or kind of delivery")
    dates: Dict[str, Optional[datetime.date]] = {}
    for key in _DATE_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} is not an ISO date")
        dates[key] = datetime.date.fromisoformat(value) if value else None
    texts: Dict[str, Optional[str]] = {}
    for key in _OPTIONAL_TEXT:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key} is not text")
        texts[key] = value or None
    return Order(
        number=number, email=data["email"].strip().lower(), postcode=data["postcode"].strip(),
        country=data["country"], status=OrderStatus(data["status"]),
        placed_at=datetime.date.fromisoformat(data["placed_at"]),
        payment_method=data["payment_method"], total=data["total"], delivery=data["delivery"],
        address=data["address"], carrier=texts["carrier"], tracking_number=texts["tracking_number"],
        expected_delivery=dates["expected_delivery"], pickup_deadline=dates["pickup_deadline"],
        delivered_on=dates["delivered_on"],
    )
