"""The signature check exactly as docs/api.md prints it, taken from the document itself, so the
tests fail when the documented procedure stops matching what Closeloop sends."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def documented_verify() -> Callable[..., bool]:
    text = DOC.read_text()
    section = text[text.index("## Webhooks") :]
    code = next(
        block
        for block in re.findall(r"```python\n(.*?)```", section, re.S)
        if "def verify_signature" in block
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), namespace)  # noqa: S102  (our own documentation)
    return namespace["verify_signature"]  # type: ignore[no-any-return]
