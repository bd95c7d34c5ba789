"""Alert delivery: a JSON POST to a webhook (standard library only)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from apprentice.errors import ConfigError


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = 10.0) -> str | None:
    """POST ``payload`` as JSON to ``url``; returns ``None`` on success or why it failed
    (a failed delivery never hides the alert itself, which the exit code still reports)."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"the webhook {url!r} is not an http(s) URL")
    body = json.dumps(payload, default=str).encode("utf-8")
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "apprentice-monitor"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return f"the webhook answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        return f"the webhook could not be reached ({type(exc).__name__})"
    return None if 200 <= status < 300 else f"the webhook answered HTTP {status}"
