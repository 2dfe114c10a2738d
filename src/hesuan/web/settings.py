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
        signing secret; shared by every HTTP worker (``HESUAN_WEB_STATE``; default
        ``<database file>.web/`` beside a SQLite registry, else ``$XDG_CACHE_HOME/hesuan/web``)
    secret : key that signs CSRF tokens (``HESUAN_WEB_SECRET``; else generated once and kept
        in ``state_dir/secret`` with mode 0600)
    max_upload_bytes : [bytes] largest request body accepted (``HESUAN_WEB_MAX_UPLOAD_MB``,
        default 50 MiB); larger ones get 413
    session_hours : [h] life of a signed-in session
    public_url : base URL printed in certificates' QR codes (``HESUAN_PUBLIC_URL``; default:
        the URL of the request)
    dask_scheduler : address of a Dask scheduler (``HESUAN_DASK_SCHEDULER``): workbench runs
        go to it (transport: Parquet uploads); without one they run in the HTTP worker
    """

    state_dir: Path
    secret: bytes
    max_upload_bytes: int = 50 * MiB
    session_hours: float = 8.0
    public_url: str | None = None
    dask_scheduler: str | None = None

    @classmethod
    def from_env(cls, state_dir: str | Path | None = None, *,
                 registry_url: str | None = None) -> WebSettings:
        """Return the settings from the environment (``HESUAN_WEB_*``), making the state folder."""
        folder = Path(state_dir or os.environ.get("HESUAN_WEB_STATE")
                      or default_state_dir(registry_url))
        folder.mkdir(parents=True, exist_ok=True)
        secret_text = os.environ.get("HESUAN_WEB_SECRET")
        secret = secret_text.encode() if secret_text else _shared_secret(folder / "secret")
        mb = float(os.environ.get("HESUAN_WEB_MAX_UPLOAD_MB", "50"))
        return cls(state_dir=folder, secret=secret, max_upload_bytes=int(mb * MiB),
                   public_url=os.environ.get("HESUAN_PUBLIC_URL") or None,
                   dask_scheduler=os.environ.get("HESUAN_DASK_SCHEDULER") or None)


def _shared_secret(path: Path) -> bytes:
    """Return the secret in ``path``, created once (mode 0600) by whichever HTTP worker comes first.

    Written under a private name and linked into place, so no worker reads a partial file.
    """
    if not path.exists():
        tmp = path.with_name(f".secret-{os.getpid()}-{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another worker was first: use its secret
        finally:
            os.unlink(tmp)
    return path.read_bytes().strip()


def default_state_dir(registry_url: str | None) -> Path:
    """``<file>.web`` beside a SQLite registry file, else the user's cache folder."""
    if registry_url and registry_url.startswith("sqlite:///") and ":memory:" not in registry_url:
        return Path(registry_url.removeprefix("sqlite:///") + ".web")
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "hesuan" / "web"
