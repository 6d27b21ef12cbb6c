"""What the bot says about a verified customer's order, in the customer's language.

Pure functions: the facts come from an `Order`, the words from content/orders.yml and
content/calendar.yml (through core.content), and "today" from the caller, so that tests
need no clock. Only call these after the customer is verified; before that, the dialogue
says only the verification texts (ASK_ORDER_NUMBER, ASK_CONTACT, NO_MATCH, ...), which
carry no order facts.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import quote

from actions.orders.port import COUNTRIES, Order, OrderStatus
from core.content import calendar_words, in_language, order_texts
from core.opening_hours import day_names

S = OrderStatus

# Texts the dialogue sends as they are (content/orders.yml); fill them with `order_text`.
ASK_ORDER_NUMBER = "verify_ask_order_number"
ASK_CONTACT = "verify_ask_contact"
NO_MATCH = "verify_no_match"                        # unknown number and wrong e-mail/postcode alike
HANDOFF_VERIFICATION_FAILED = "handoff_verification_failed"
HANDOFF_RATE_LIMITED = "handoff_rate_limited"
UNAVAILABLE_LOOKUP = "unavailable_lookup"
UNAVAILABLE_CANCEL = "unavailable_cancel"           # {order_number}
UNAVAILABLE_CHANGE = "unavailable_change"           # {order_number}
CANCEL_KEPT = "cancel_kept"                         # {order_number}
BUTTON_CANCEL_YES = "button_cancel_yes"
BUTTON_CANCEL_NO = "button_cancel_no"
OFFER_PERSON = "offer_person"
DELAYED_OFFER_PERSON = "delayed_offer_person"

# brand names, the same in every language
CARRIER_NAMES: Dict[str, str] = {
    "posten_bring": "Posten/Bring", "postnord": "PostNord", "gls": "GLS", "dhl": "DHL",
    "budbee": "Budbee",
}
# the carriers' public tracking pages: {n} is the URL-quoted tracking number, {cc} the
# lower-case country code; PostNord has one site per country
TRACKING_URLS: Dict[str, str] = {
    "posten_bring": "https://sporing.posten.no/sporing/{n}",
    "gls": "https://gls-group.com/track/{n}",
    "dhl": "https://www.dhl.com/{cc}-en/home/tracking.html?tracking-id={n}",
    "budbee": "https://tracking.budbee.com/{n}",
}
POSTNORD_TRACKING_URLS: Dict[str, str] = {
    "NO": "https://www.postnord.no/sporing?id={n}",
    "DK": "https://www.postnord.dk/varktojer/track-trace?shipmentId={n}",
    "SE": "https://www.postnord.se/verktyg/sok-forsandelse?shipmentId={n}",
}
# DHL's international page, for an order from a country we have no local page for
DHL_GLOBAL = "global"
# the wallet apps and the one country each is used in
WALLETS: Dict[str, Tuple[str, str]] = {"vipps": ("Vipps", "NO"), "mobilepay": ("MobilePay", "DK")}
SWISH_COUNTRY = "SE"
PICKUP_POINT = "pickup_point"
# a date further from today than this names its year as well ("... 4. desember 2025")
YEAR_AFTER_DAYS = 183

# sent: too late to cancel or change, though the carrier may still reroute or return it
ON_THE_WAY = frozenset({S.SHIPPED, S.DELAYED, S.AT_PICKUP_POINT})


def order_text(key: str, language: str, **values: object) -> str:
    """One text of content/orders.yml in the language, its {placeholders} filled in."""
    return in_language(order_texts()[key], language).format(**values)


def _names(key: str, language: str, count: int) -> List[str]:
    names = [name.strip() for name in in_language(calendar_words()[key], language).split(",")]
    if len(names) != count:
        raise ValueError(f"content/calendar.yml: {key} ({language}) needs {count} names")
    return names


def local_date(day: dt.date, language: str, today: Optional[dt.date] = None) -> str:
    """'fredag 4. desember', 'fredag den 4. december', 'fredag 4 december'; 'i dag',
    'i morgen' or 'i går' when `today` is given and the day is that close."""
    words = calendar_words()
    if today is not None:
        relative = {-1: "yesterday", 0: "today", 1: "tomorrow"}.get((day - today).days)
        if relative:
            return in_language(words[relative], language)
    text = in_language(words["date_format"], language).format(
        weekday=day_names(language)[day.weekday()], day=day.day,
        month=_names("month_names", language, 12)[day.month - 1])
    if today is not None and abs((day - today).days) > YEAR_AFTER_DAYS:
        text = f"{text} {day.year}"
    return text


def carrier_name(carrier: str) -> str:
    """'Posten/Bring', 'PostNord', ...; a carrier we do not know by the name the shop gave it."""
    return CARRIER_NAMES.get(carrier, carrier)


def tracking_link(carrier: Optional[str], tracking_number: Optional[str], country: str) -> Optional[str]:
    """The carrier's public tracking page for the parcel, if the carrier has one we know."""
    if not carrier or not tracking_number or not tracking_number.strip():
        return None
    number = quote(tracking_number.strip(), safe="")
    if carrier == "postnord":
        pattern = POSTNORD_TRACKING_URLS.get(country.upper())
    else:
        pattern = TRACKING_URLS.get(carrier)
    if pattern is None:
        return None
    cc = country.lower() if country.upper() in COUNTRIES else DHL_GLOBAL
    return pattern.format(n=number, cc=cc)


def refund_promise(payment_method: str, country: str, language: str) -> str:
    """When the money comes back after a cancellation, for the payment method used.

    A wallet is promised only in its own country (Vipps in Norway, ...): anything else is
    data we cannot vouch for, so it gets the promise that holds for every method.
    """
    if payment_method in WALLETS:
        wallet, wallet_country = WALLETS[payment_method]
        if wallet_country == country.upper():
            return order_text("refund_wallet", language, wallet=wallet)
    elif payment_method == "swish" and country.upper() == SWISH_COUNTRY:
        return order_text("refund_swish", language)
    elif payment_method in ("card", "klarna", "gift_card"):
        return order_text(f"refund_{payment_method}", language)
    return order_text("refund_other", language)


# --- the status of an order ---

Lines = List[str]


def _tracking(order: Order, language: str) -> Lines:
    carrier = carrier_name(order.carrier) if order.carrier else None
    number = order.tracking_number.strip() if order.tracking_number else None
    link = tracking_link(order.carrier, number, order.country)
    if carrier and number:
        key = "tracking_with_link" if link else "tracking_without_link"
        return [order_text(key, language, carrier=carrier, tracking_number=number, tracking_link=link)]
    if carrier:
        return [order_text("tracking_carrier_only", language, carrier=carrier)]
    if number:
        return [order_text("tracking_number_only", language, tracking_number=number)]
    return []


def _received(order: Order, language: str, today: dt.date) -> Lines:
    return [order_text("status_received", language, order_number=order.number)]


def _packed(order: Order, language: str, today: dt.date) -> Lines:
    return [order_text("status_packed", language, order_number=order.number)]


def _shipped(order: Order, language: str, today: dt.date) -> Lines:
    lines = [order_text("status_shipped", language, order_number=order.number),
             *_tracking(order, language)]
    expected = order.expected_delivery
    if expected is None:
        return [*lines, order_text("expected_delivery_unknown", language)]
    key = "expected_delivery_passed" if expected < today else "expected_delivery"
    return [*lines, order_text(key, language, date=local_date(expected, language, today))]


def _delayed(order: Order, language: str, today: dt.date) -> Lines:
    lines = [order_text("status_delayed", language, order_number=order.number),
             *_tracking(order, language)]
    expected = order.expected_delivery
    if expected is None:
        lines.append(order_text("delayed_no_estimate", language))
    else:
        key = "expected_delivery_passed" if expected < today else "delayed_new_estimate"
        lines.append(order_text(key, language, date=local_date(expected, language, today)))
    return lines


def _at_pickup_point(order: Order, language: str, today: dt.date) -> Lines:
    first = order_text("status_at_pickup_point", language, order_number=order.number,
                       pickup_point=order.address)
    deadline = order.pickup_deadline
    if deadline is None:
        return [first, order_text("pickup_deadline_unknown", language)]
    key = "pickup_deadline_passed" if deadline < today else "pickup_deadline"
    return [first, order_text(key, language, date=local_date(deadline, language, today))]


def _delivered(order: Order, language: str, today: dt.date) -> Lines:
    key = "status_delivered_pickup_point" if order.delivery == PICKUP_POINT else "status_delivered_home"
    if order.delivered_on is None:
        first = order_text(f"{key}_undated", language, order_number=order.number, address=order.address)
    else:
        first = order_text(key, language, order_number=order.number, address=order.address,
                           date=local_date(order.delivered_on, language, today))
    return [first, order_text("delivered_next", language)]


def _returned(order: Order, language: str, today: dt.date) -> Lines:
    return [order_text("status_returned", language, order_number=order.number)]


def _refunded(order: Order, language: str, today: dt.date) -> Lines:
    key = {"klarna": "status_refunded_klarna", "gift_card": "status_refunded_gift_card"}.get(
        order.payment_method, "status_refunded")
    return [order_text(key, language, order_number=order.number, total=order.total)]


def _cancelled(order: Order, language: str, today: dt.date) -> Lines:
    return [order_text("status_cancelled", language, order_number=order.number),
            refund_promise(order.payment_method, order.country, language)]


_DESCRIBE: Dict[OrderStatus, Callable[[Order, str, dt.date], Lines]] = {
    S.RECEIVED: _received, S.PACKED: _packed, S.SHIPPED: _shipped, S.DELAYED: _delayed,
    S.AT_PICKUP_POINT: _at_pickup_point, S.DELIVERED: _delivered, S.RETURNED: _returned,
    S.REFUNDED: _refunded, S.CANCELLED: _cancelled,
}


def offers_person(order: Order, today: dt.date) -> bool:
    """Whether the description ends with the offer of a person (the dialogue adds the
    buttons): a delayed order, or a shipped one past its expected delivery date."""
    overdue = order.expected_delivery is not None and order.expected_delivery < today
    return order.status == S.DELAYED or (order.status == S.SHIPPED and overdue)


def describe_order(order: Order, language: str, today: dt.date) -> str:
    """The order's status in plain words, starting with its number; one line per part
    (status, carrier and tracking, dates, what happens next).

    Says nothing the verified customer did not give or could not see in their order
    confirmation: never the e-mail, the postcode only inside the delivery address.
    `today` is the customer's local date (for "i morgen" and dates that have passed).
    """
    lines = _DESCRIBE[order.status](order, language, today)
    if offers_person(order, today):
        lines.append(order_text(DELAYED_OFFER_PERSON, language))
    return "\n".join(lines)


# --- cancelling and changing ---

def cancel_confirmation(order: Order, language: str) -> str:
    """The question before cancelling, naming the order (buttons: BUTTON_CANCEL_YES/NO)."""
    return order_text("cancel_confirm", language, order_number=order.number)


def cancellation_done(order: Order, language: str) -> str:
    """Cancelled, and when the money comes back for the payment method used."""
    return "\n".join([order_text("cancel_done", language, order_number=order.number),
                      refund_promise(order.payment_method, order.country, language)])


def _too_late(prefix: str, order: Order, language: str, today: dt.date) -> str:
    """Why the order cannot be cancelled or changed, what to do instead, and a person."""
    if order.status == S.PACKED:
        key: Optional[str] = f"{prefix}_too_late_packed"
    elif order.status in ON_THE_WAY:
        key = f"{prefix}_too_late_sent"
    elif order.status == S.DELIVERED and prefix == "cancel":
        key = "cancel_too_late_delivered"
    else:
        key = None
    # delivered (for a change), returned, refunded, cancelled, or received again by the
    # time the order system answered: the order's status says it best
    first = (order_text(key, language, order_number=order.number) if key
             else describe_order(order, language, today))
    return "\n".join([first, order_text(OFFER_PERSON, language)])


def cannot_cancel(order: Order, language: str, today: dt.date) -> str:
    """The order is past cancelling (NotChangeable): how a return works, and a person."""
    return _too_late("cancel", order, language, today)


def cannot_change(order: Order, language: str, today: dt.date) -> str:
    """The delivery can no longer be changed (NotChangeable): what can be done, and a person."""
    return _too_late("change", order, language, today)


def ask_new_delivery(order: Order, language: str) -> str:
    """Asks for the new pickup point, or the new address for a home delivery."""
    key = "change_ask_pickup_point" if order.delivery == PICKUP_POINT else "change_ask_address"
    return order_text(key, language, order_number=order.number)


def delivery_changed(order: Order, language: str) -> str:
    """The changed order (as the order system returned it): where it now goes."""
    key = "change_done_pickup_point" if order.delivery == PICKUP_POINT else "change_done_address"
    return order_text(key, language, order_number=order.number, address=order.address)

