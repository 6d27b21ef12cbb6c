"""Realistic, made-up Nordhem orders for the demo store: people, addresses, pickup points,
carriers, payment methods and dates relative to a given day.

Deterministic: the same seed and day give the same orders, so tests and evaluations can pick
them from `python -m actions.orders list`. Order numbers rise with the order date, as a shop's
do, and avoid the example numbers used in tests and the README.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass, replace
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, TypeVar

from actions.orders.port import Order, OrderStatus
from core.personal_data import find_personal_data

DEFAULT_SEED = 20261204
# examples written in tests, stories and the README: never a real demo order
RESERVED_NUMBERS = frozenset({"40918273", "10483921"})
FIRST_NUMBER = 11_384_207

S = OrderStatus


@dataclass(frozen=True)
class City:
    homes: Tuple[Tuple[str, str, str], ...]          # (postcode, postal town, street)
    pickup_points: Dict[str, Tuple[str, ...]]        # carrier -> "name, street, postcode town"
    budbee: bool = False                             # Budbee delivers here


CITIES: Dict[str, Tuple[City, ...]] = {
    "NO": (
        City((("0555", "Oslo", "Thorvald Meyers gate"), ("0552", "Oslo", "Markveien"),
              ("0364", "Oslo", "Kirkeveien"), ("0562", "Oslo", "Jens Bjelkes gate"),
              ("0167", "Oslo", "Pilestredet")),
             {"posten_bring": ("Coop Extra Grünerløkka, Thorvald Meyers gate 30, 0555 Oslo",
                               "Kiwi Majorstuen, Kirkeveien 64, 0364 Oslo"),
              "postnord": ("Bunnpris Grünerløkka, Grüners gate 1, 0552 Oslo",
                           "Narvesen Majorstuen, Bogstadveien 59, 0366 Oslo")}, budbee=True),
        City((("1337", "Sandvika", "Sandviksveien"), ("1357", "Bekkestua", "Gamle Ringeriksvei"),
              ("1338", "Sandvika", "Rådmann Halmrasts vei")),
             {"posten_bring": ("Kiwi Sandvika, Sandviksveien 2, 1337 Sandvika",),
              "postnord": ("Coop Prix Bekkestua, Gamle Ringeriksvei 39, 1357 Bekkestua",)}, budbee=True),
        City((("5015", "Bergen", "Nygårdsgaten"), ("5005", "Bergen", "Klostergaten"),
              ("5035", "Bergen", "Sandviksveien")),
             {"posten_bring": ("Rema 1000 Nygårdsgaten, Nygårdsgaten 33, 5015 Bergen",),
              "postnord": ("Bunnpris Nordnes, Haugeveien 2, 5005 Bergen",)}),
        City((("7030", "Trondheim", "Elgeseter gate"), ("7011", "Trondheim", "Kongens gate"),
              ("7014", "Trondheim", "Innherredsveien")),
             {"posten_bring": ("Coop Extra Bakklandet, Nedre Bakklandet 3, 7013 Trondheim",),
              "postnord": ("Joker Møllenberg, Innherredsveien 5, 7014 Trondheim",)}),
        City((("4013", "Stavanger", "Pedersgata"), ("4008", "Stavanger", "Løkkeveien"),
              ("4012", "Stavanger", "Bergelandsgata")),
             {"posten_bring": ("Kiwi Storhaug, Pedersgata 80, 4013 Stavanger",),
              "postnord": ("Bunnpris Bergeland, Bergelandsgata 12, 4012 Stavanger",)}),
        City((("9008", "Tromsø", "Storgata"), ("9008", "Tromsø", "Skippergata"),
              ("9008", "Tromsø", "Søndre Tollbugate")),
             {"posten_bring": ("Coop Extra Sjøgata, Sjøgata 25, 9008 Tromsø",),
              "postnord": ("Joker Tromsdalen, Tromsdalsveien 3, 9020 Tromsdalen",)}),
    ),
    "DK": (
        City((("2200", "København N", "Nørrebrogade"), ("2200", "København N", "Guldbergsgade"),
              ("2200", "København N", "Jagtvej")),
             {"postnord": ("Netto Nørrebrogade, Nørrebrogade 150, 2200 København N",),
              "gls": ("Kiosk Jagtvej, Jagtvej 81, 2200 København N",),
              "dhl": ("Circle K Tagensvej, Tagensvej 88, 2200 København N",)}),
        City((("2100", "København Ø", "Østerbrogade"), ("2100", "København Ø", "Classensgade"),
              ("2100", "København Ø", "Nordre Frihavnsgade")),
             {"postnord": ("Føtex Østerbro, Østerbrogade 96, 2100 København Ø",),
              "gls": ("Meny Nordre Frihavnsgade, Nordre Frihavnsgade 33, 2100 København Ø",),
              "dhl": ("7-Eleven Trianglen, Østerbrogade 50, 2100 København Ø",)}),
        City((("1850", "Frederiksberg C", "Gammel Kongevej"), ("2000", "Frederiksberg", "Falkoner Allé"),
              ("2000", "Frederiksberg", "Godthåbsvej")),
             {"postnord": ("SuperBrugsen Falkoner Allé, Falkoner Allé 44, 2000 Frederiksberg",),
              "gls": ("Kiosken Godthåbsvej, Godthåbsvej 27, 2000 Frederiksberg",),
              "dhl": ("Circle K Gammel Kongevej, Gammel Kongevej 131, 1850 Frederiksberg C",)}),
        City((("8000", "Aarhus C", "Jægergårdsgade"), ("8000", "Aarhus C", "Mejlgade"),
              ("8200", "Aarhus N", "Randersvej")),
             {"postnord": ("Netto Jægergårdsgade, Jægergårdsgade 60, 8000 Aarhus C",),
              "gls": ("Spar Mejlgade, Mejlgade 40, 8000 Aarhus C",),
              "dhl": ("Circle K Randersvej, Randersvej 120, 8200 Aarhus N",)}),
        City((("5000", "Odense C", "Vestergade"), ("5000", "Odense C", "Kongensgade"),
              ("5200", "Odense V", "Middelfartvej")),
             {"postnord": ("Netto Kongensgade, Kongensgade 40, 5000 Odense C",),
              "gls": ("Spar Vestergade, Vestergade 95, 5000 Odense C",),
              "dhl": ("Q8 Middelfartvej, Middelfartvej 100, 5200 Odense V",)}),
        City((("9000", "Aalborg", "Boulevarden"), ("9000", "Aalborg", "Vesterbro"),
              ("9000", "Aalborg", "Hobrovej")),
             {"postnord": ("Føtex Vesterbro, Vesterbro 32, 9000 Aalborg",),
              "gls": ("Kiosk Boulevarden, Boulevarden 20, 9000 Aalborg",),
              "dhl": ("Circle K Hobrovej, Hobrovej 75, 9000 Aalborg",)}),
    ),
    "SE": (
        City((("113 51", "Stockholm", "Sveavägen"), ("113 46", "Stockholm", "Odengatan"),
              ("118 20", "Stockholm", "Götgatan"), ("116 46", "Stockholm", "Folkungagatan")),
             {"postnord": ("ICA Supermarket Odenplan, Odengatan 63, 113 22 Stockholm",),
              "dhl": ("Pressbyrån Medborgarplatsen, Götgatan 42, 118 26 Stockholm",)}, budbee=True),
        City((("411 38", "Göteborg", "Vasagatan"), ("413 04", "Göteborg", "Linnégatan"),
              ("413 08", "Göteborg", "Sveagatan")),
             {"postnord": ("ICA Nära Linnéplatsen, Linnégatan 60, 413 08 Göteborg",),
              "dhl": ("Hemköp Vasagatan, Vasagatan 40, 411 37 Göteborg",)}, budbee=True),
        City((("211 22", "Malmö", "Södra Förstadsgatan"), ("214 20", "Malmö", "Möllevångsgatan"),
              ("217 44", "Malmö", "Regementsgatan")),
             {"postnord": ("ICA Supermarket Möllevången, Möllevångsgatan 30, 214 20 Malmö",),
              "dhl": ("Coop Triangeln, Södra Förstadsgatan 41, 211 43 Malmö",)}, budbee=True),
        City((("753 20", "Uppsala", "Svartbäcksgatan"), ("753 21", "Uppsala", "Kungsgatan")),
             {"postnord": ("ICA Nära Svartbäcken, Svartbäcksgatan 60, 753 33 Uppsala",),
              "dhl": ("Pressbyrån Uppsala C, Kungsgatan 23, 753 21 Uppsala",)}),
        City((("903 26", "Umeå", "Kungsgatan"), ("903 27", "Umeå", "Storgatan")),
             {"postnord": ("ICA Kvantum Utan Gränser, Storgatan 44, 903 26 Umeå",),
              "dhl": ("Circle K Norrlandsgatan, Norrlandsgatan 2, 903 29 Umeå",)}),
    ),
}

FIRST_NAMES = {
    "NO": ("Ingrid", "Kari", "Nora", "Emma", "Sofie", "Ida", "Marit", "Silje", "Hanne", "Thea",
           "Sigrid", "Tuva", "Maja", "Ole", "Lars", "Jonas", "Henrik", "Magnus", "Sindre", "Eirik",
           "Håkon", "Even", "Kristian", "Aksel", "Øystein", "Bjørn", "Solveig", "Åse"),
    "DK": ("Mette", "Anne", "Camilla", "Louise", "Sofie", "Freja", "Emma", "Line", "Signe",
           "Mathilde", "Ida", "Mads", "Mikkel", "Rasmus", "Frederik", "Søren", "Jesper", "Anders",
           "Kasper", "Christian", "Asger", "Jonas", "Bodil", "Kirsten"),
    "SE": ("Anna", "Emma", "Elin", "Maja", "Ebba", "Klara", "Linnea", "Sara", "Johanna", "Karin",
           "Märta", "Åsa", "Sofia", "Erik", "Lars", "Johan", "Oskar", "Anders", "Gustav", "Axel",
           "Viktor", "Filip", "Björn", "Henrik"),
}
LAST_NAMES = {
    "NO": ("Haugen", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
           "Berg", "Bakken", "Lie", "Dahl", "Solberg", "Strand", "Eide", "Moen", "Aas", "Halvorsen",
           "Kristiansen", "Lunde", "Sæther", "Vik", "Nygård", "Hagen", "Myhre", "Røed", "Bråten"),
    "DK": ("Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
           "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Thomsen",
           "Poulsen", "Møller", "Mortensen", "Kjær", "Lund", "Holm", "Skov", "Dam", "Bach"),
    "SE": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
           "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Lindberg", "Lindqvist",
           "Bergström", "Lundgren", "Sandberg", "Ekström", "Åberg", "Sjöberg", "Forsberg", "Holm"),
}
DOMAINS = {"NO": "example.no", "DK": "example.dk", "SE": "example.se"}
ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})

CARRIERS = {  # carrier: weight
    "NO": {"posten_bring": 60, "postnord": 25, "budbee": 15},
    "DK": {"postnord": 50, "gls": 35, "dhl": 15},
    "SE": {"postnord": 55, "dhl": 25, "budbee": 20},
}
PAYMENTS = {  # payment method: weight
    "NO": {"vipps": 40, "card": 30, "klarna": 25, "gift_card": 5},
    "DK": {"mobilepay": 40, "card": 35, "klarna": 20, "gift_card": 5},
    "SE": {"swish": 30, "card": 30, "klarna": 35, "gift_card": 5},
}
COUNTRY_WEIGHTS = {"NO": 40, "DK": 30, "SE": 30}
STATUS_WEIGHTS = {S.RECEIVED: 14, S.PACKED: 8, S.SHIPPED: 18, S.DELAYED: 5, S.AT_PICKUP_POINT: 8,
                  S.DELIVERED: 26, S.RETURNED: 6, S.REFUNDED: 7, S.CANCELLED: 8}
# days a parcel waits at the pickup point before it goes back
HOLD_DAYS = {("NO", "posten_bring"): 14, ("NO", "postnord"): 14, ("DK", "postnord"): 7,
             ("DK", "gls"): 7, ("DK", "dhl"): 7, ("SE", "postnord"): 14, ("SE", "dhl"): 7}
CURRENCY = {"NO": "NOK", "DK": "DKK", "SE": "SEK"}
PRICES = (149, 199, 249, 299, 349, 399, 449, 499, 599, 699, 799, 899, 999, 1299, 1499, 1799, 2499)
SHIPPING = {"NO": (69, 799), "DK": (49, 499), "SE": (59, 699)}  # fee, free from
DK_FLOORS = ("st.", "st. th.", "1. th.", "1. tv.", "2. th.", "2. tv.", "3. mf.", "4. tv.")


T = TypeVar("T")


def _weighted(rng: random.Random, weights: Mapping[T, int], allowed: Optional[Sequence[T]] = None) -> T:
    items = [item for item in weights if allowed is None or item in allowed]
    return rng.choices(items, [weights[item] for item in items])[0]


def _money(amount: int, country: str) -> str:
    whole = f"{amount:,}".replace(",", "." if country == "DK" else " ")
    return f"{whole},00 {CURRENCY[country]}"


def _no_sunday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=1) if day.weekday() == 6 else day


def _email(rng: random.Random, country: str) -> str:
    first = rng.choice(FIRST_NAMES[country]).lower().translate(ASCII)
    last = rng.choice(LAST_NAMES[country]).lower().translate(ASCII)
    local = rng.choice((f"{first}.{last}", f"{first}.{last}", f"{first}{last}", f"{first[0]}.{last}",
                        f"{first}.{last}{rng.randint(60, 99)}", f"{first}_{last}"))
    return f"{local}@{DOMAINS[country]}"


def _tracking_number(rng: random.Random, carrier: str) -> str:
    """A number in the carrier's format that no checksum mistakes for a card or identity number."""
    while True:
        digits = "".join(rng.choices(string.digits, k=16))
        number = {
            "posten_bring": "3707" + digits[:14],         # Bring's 18-digit package number
            "postnord": "00373" + digits[:15],            # PostNord's 20-digit parcel id
            "gls": "0" + digits[:10],                     # GLS's 11-digit parcel number
            "dhl": "JJD00" + digits,                      # DHL Parcel's JJD number
            "budbee": "BB" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=10)),
        }[carrier]
        if not find_personal_data(number):
            return number


def _home_address(rng: random.Random, country: str, home: Tuple[str, str, str]) -> str:
    postcode, town, street = home
    number = f"{rng.randint(1, 140)}{rng.choice(('', '', '', 'A', 'B'))}"
    if country == "DK" and rng.random() < 0.6:
        number += f", {rng.choice(DK_FLOORS)}"
    elif country == "SE" and rng.random() < 0.5:
        number += f" lgh {rng.randint(10, 16)}0{rng.randint(1, 4)}"
    return f"{street} {number}, {postcode} {town}"


def _carrier(rng: random.Random, country: str, city: City, pickup: bool) -> str:
    allowed = [c for c in CARRIERS[country]
               if (c in city.pickup_points if pickup else (c != "budbee" or city.budbee))]
    return _weighted(rng, CARRIERS[country], allowed)


@dataclass(frozen=True)
class _Plan:
    country: str
    status: OrderStatus
    payment_method: Optional[str] = None
    carrier: Optional[str] = None
    has_estimate: Optional[bool] = None
    pickup: Optional[bool] = None


def _plans(rng: random.Random, count: int) -> List[_Plan]:
    """Every status, carrier and payment method in every country first, then a realistic mix."""
    plans: List[_Plan] = []
    for country in CITIES:
        plans += [_Plan(country, S.RECEIVED, payment_method=method, pickup=index % 2 == 0)
                  for index, method in enumerate(PAYMENTS[country])]
        plans += [_Plan(country, S.SHIPPED, carrier=carrier) for carrier in CARRIERS[country]]
        plans += [_Plan(country, S.DELAYED, has_estimate=True), _Plan(country, S.DELAYED, has_estimate=False)]
        plans += [_Plan(country, status) for status in
                  (S.PACKED, S.AT_PICKUP_POINT, S.DELIVERED, S.RETURNED, S.REFUNDED, S.CANCELLED)]
    while len(plans) < count:
        plans.append(_Plan(_weighted(rng, COUNTRY_WEIGHTS), _weighted(rng, STATUS_WEIGHTS)))
    return plans


def _order(rng: random.Random, plan: _Plan, today: dt.date) -> Order:
    country, status = plan.country, plan.status

    def ago(low: int, high: int) -> dt.date:
        return today - dt.timedelta(days=rng.randint(low, high))

    pickup = plan.pickup if plan.pickup is not None else rng.random() < 0.55
    if status == S.AT_PICKUP_POINT:
        pickup = True
    if plan.carrier == "budbee":
        pickup = False
    cities = [c for c in CITIES[country] if plan.carrier != "budbee" or c.budbee]
    city = rng.choice(cities)
    carrier = plan.carrier or _carrier(rng, country, city, pickup)
    home = rng.choice(city.homes)
    address = (rng.choice(city.pickup_points[carrier]) if pickup
               else _home_address(rng, country, home))
    items = rng.choices(PRICES, k=rng.choice((1, 1, 1, 2, 2, 3, 4)))
    fee, free_from = SHIPPING[country]
    amount = sum(items) + (0 if sum(items) >= free_from else fee)

    expected = deadline = delivered = None
    tracking: Optional[str] = _tracking_number(rng, carrier)
    if status == S.RECEIVED:
        placed, tracking = ago(0, 1), None
    elif status == S.PACKED:
        placed, tracking = ago(0, 2), None
    elif status == S.SHIPPED:
        placed = ago(1, 4)
        expected = _no_sunday(today + dt.timedelta(days=rng.randint(1, 4)))
    elif status == S.DELAYED:
        placed = ago(6, 14)
        has_estimate = plan.has_estimate if plan.has_estimate is not None else rng.random() < 0.6
        expected = _no_sunday(today + dt.timedelta(days=rng.randint(1, 5))) if has_estimate else None
    elif status == S.AT_PICKUP_POINT:
        arrived = ago(0, 4)
        placed = arrived - dt.timedelta(days=rng.randint(2, 5))
        deadline = arrived + dt.timedelta(days=HOLD_DAYS[(country, carrier)])
    elif status == S.CANCELLED:
        placed, tracking = ago(1, 25), None
    else:  # delivered, then perhaps sent back and refunded
        delivered = ago(*{S.DELIVERED: (1, 25), S.RETURNED: (6, 30), S.REFUNDED: (12, 60)}[status])
        placed = delivered - dt.timedelta(days=rng.randint(2, 5))
    payment = plan.payment_method or _weighted(rng, PAYMENTS[country])
    return Order(
        number="", email=_email(rng, country), postcode=home[0], country=country, status=status,
        placed_at=placed, payment_method=payment, total=_money(amount, country),
        delivery="pickup_point" if pickup else "home", address=address, carrier=carrier,
        tracking_number=tracking, expected_delivery=expected, pickup_deadline=deadline,
        delivered_on=delivered,
    )


def generate_orders(today: dt.date, count: int = 200, seed: int = DEFAULT_SEED) -> List[Order]:
    """`count` orders (at least the 45 that cover every case), numbered in order of date."""
    rng = random.Random(seed)
    orders = [_order(rng, plan, today) for plan in _plans(rng, count)]
    # shuffled before the stable sort, so that orders of one day are not grouped by case
    rng.shuffle(orders)
    orders.sort(key=lambda order: order.placed_at)
    numbered: List[Order] = []
    number = FIRST_NUMBER
    for order in orders:
        number += rng.randint(40, 400)  # the shop's other orders in between
        while str(number) in RESERVED_NUMBERS:
            number += 1
        numbered.append(replace(order, number=str(number)))
    return numbered


