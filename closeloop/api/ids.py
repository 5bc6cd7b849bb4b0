"""Record ids in paths, queries and bodies: positive and within a 64-bit integer.

SQLite cannot even compare with a larger integer (the driver raises OverflowError), so an absurd
id is refused as invalid input (422, naming the field) instead of failing the request.
"""

from __future__ import annotations

from typing import Annotated

from ninja.params import functions
from pydantic import Field

MAX_ID = 2**63 - 1

# an id in a body or a query (`owner_id: RecordId | None = None`)
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
# the id in a route's path (`def read(request, deal_id: PathId)`)
PathId = Annotated[int, functions.Path(..., ge=1, le=MAX_ID)]

# the `version` of a record a change was based on: another one stored answers 409
# (`expected_version: ExpectedVersion = None`)
ExpectedVersion = Annotated[
    int | None,
    Field(ge=1, le=2**31 - 1, description="the `version` you read; another one answers 409"),
]
