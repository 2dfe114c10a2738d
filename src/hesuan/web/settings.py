"""Settings of the web application, read once from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass(frozen=True)
class WebSettings:
    """Where the web application keeps its state and how it limits requests.

    Attributes
    ----------
    state_dir : folder of the web state database (sessions, jobs), the jobs' files and the
        signing secret; shared by every HTTP worker (``HESUAN_WEB_STATE``)
    secret : key that signs CSRF tokens (``HESUAN_WEB_SECRET``; else generated once and kept
        in ``state_dir/secret`` with mode 0600)
    max_upload_bytes : [bytes] largest request body accepted (``HESUAN_WEB_MAX_UPLOAD_MB``,
        default 50 MiB); larger ones get 413
    session_hours : [h] life of a signed-in session
    public_url : base URL printed in certificates' QR codes (``HESUAN_PUBLIC_URL``; default:
        the URL of the request)
    """

    state_dir: Path
    secret: bytes
    max_upload_bytes: int = 50 * MiB
    session_hours: float = 8.0
    public_url: str | None = None

    @classmethod
    def from_env(cls, state_dir: str | Path | None = None) -> WebSettings:
        folder = Path(state_dir or os.environ.get("HESUAN_WEB_STATE", "hesuan-web-state"))
        folder.mkdir(parents=True, exist_ok=True)
        secret_text = os.environ.get("HESUAN_WEB_SECRET")
        if secret_text:
            secret = secret_text.encode()
        else:
            path = folder / "secret"
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(48))
            secret = path.read_bytes().strip()
        mb = float(os.environ.get("HESUAN_WEB_MAX_UPLOAD_MB", "50"))
        return cls(state_dir=folder, secret=secret, max_upload_bytes=int(mb * MiB),
                   public_url=os.environ.get("HESUAN_PUBLIC_URL") or None)
