"""Capillary's coupon upload file: columns by position, not by name.

The upload names the series, how customers are identified (`MOBILE`, `EMAIL`, `USER_ID`, `EXTERNAL_ID`,
or `NOT_TAGGED` for codes alone) and, for tagged coupons, the column (from 0) holding the customer; the
coupon code is the first other column. A first row whose code cell reads like a column title (`code`,
`coupon code`, ...) or whose customer cell names the identifier (`mobile`, `email`, ...) is a header and
is skipped; Capillary's documents show no header, and spreadsheets often add one (docs/decisions.md).
"""

from __future__ import annotations

import re

from ..schemas.capillary import NOT_TAGGED
from .cells import trimmed
from .files import CsvLayout
from .files import FileProblem

#: Column titles a header row's code cell may have, and its customer cell (lower case, letters alone).
_CODE_TITLES = {"code", "codes", "coupon", "coupons", "couponcode", "couponcodes", "voucher", "vouchercode"}
_CUSTOMER_TITLES = {"mobile", "mobilenumber", "phone", "email", "emailid", "userid", "user", "externalid",
                    "customer", "customerid", "customeridentifier"}


def _title(cell: str) -> str:
    """A cell as a column title compares: lower case, letters and digits alone."""
    return re.sub(r"[^a-z0-9]", "", cell.lower())


class Positional(CsvLayout):
    """Coupon rows by position: the code, and for tagged coupons the customer's column."""

    def __init__(self, options: dict, first: list[str]):
        """Take the series, the identifier and its column; decide whether `first` is a header."""
        self.series_id = options["series_id"]
        self.identifier = options["customer_identifier"]
        self.customer = None if self.identifier == NOT_TAGGED else options["customer_column"]
        self.code = 1 if self.customer == 0 else 0
        if self.customer is not None and len(first) <= max(self.customer, self.code):
            raise FileProblem(f"customerIdentifierColumn is {self.customer}, but the first row has {len(first)} "
                              f"column(s): a tagged coupon file needs the code and the customer's "
                              f"{self.identifier} in two columns.")
        titles = {_title(first[self.code])} if first[self.code:] else set()
        if self.customer is not None:
            titles.add(_title(first[self.customer]))
        self.first_row_is_header = bool(titles & (_CODE_TITLES | _CUSTOMER_TITLES))

    def item(self, cells: list[str]) -> dict:
        """The coupon a row names."""
        item = {"series_id": self.series_id, "customer_identifier": self.identifier}
        code = trimmed(cells[self.code]) if len(cells) > self.code else ""
        if code:
            item["code"] = code
        customer = trimmed(cells[self.customer]) if self.customer is not None and len(cells) > self.customer else ""
        if customer:
            item["customer_value"] = customer
        return item


def positional(options: dict):
    """The layout of a Capillary coupon file with these upload options."""
    return lambda first: Positional(options, first)
