"""Money is a Decimal plus an ISO 4217 currency code; never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}
CURRENCY_CODES = [
    "EUR",
    "USD",
    "GBP",
    "CHF",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "CAD",
    "AUD",
    "NZD",
    "JPY",
    "CNY",
    "INR",
    "BRL",
    "MXN",
    "ZAR",
    "SGD",
    "HKD",
    "AED",
]
CENT = Decimal("0.01")


def base_currency() -> str:
    from closeloop.accounts.selectors import workspace_settings

    return workspace_settings().base_currency or settings.BASE_CURRENCY


def parse_amount(text: str | Decimal | int) -> Decimal:
    """Parse a user-typed amount ('1 200,50', '1,200.50', '1200') into a Decimal."""
    if isinstance(text, Decimal | int):
        return Decimal(text).quantize(CENT)
    cleaned = str(text).strip().replace(" ", "").replace("\u00a0", "").replace("'", "")
    if "," in cleaned and "." in cleaned:
        # the right-most separator is the decimal one
        if cleaned.rfind(",") > cleaned.rfind("."):
            cleaned = cleaned.replace(".", "").replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        cleaned = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else cleaned.replace(",", "")
    try:
        return Decimal(cleaned).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"'{text}' is not an amount") from exc


def format_money(amount: Decimal | int | None, currency: str | None = None) -> str:
    """1234.5, 'EUR' -> '€1,234.50'; whole amounts drop the cents for board headers."""
    if amount is None:
        return "—"
    currency = (currency or base_currency()).upper()
    amount = Decimal(amount)
    symbol = CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    if symbol:
        if number.startswith("-"):
            return f"-{symbol}{number[1:]}"
        return f"{symbol}{number}"
    return f"{number} {currency}"
