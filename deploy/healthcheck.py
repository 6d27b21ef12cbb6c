"""Health and readiness probe of the images: GET a URL of this container, exit 0 on a 2xx.

Docker's HEALTHCHECK runs it in all three images, and Kubernetes' readiness probe of Rasa
runs it too: Rasa's `/status` (200 only once the model is loaded) needs a JWT signed with
Rasa's `--jwt-secret`, so `--jwt-secret-env NAME` signs a short-lived one from that
environment variable (core/signing.py, as the service does) and the secret never appears on
a probe's command line. Standard library and core/ only: it runs in the Python 3.10 images
(Rasa, actions) and the 3.11 one (the service), with PYTHONPATH=/app.

    python deploy/healthcheck.py http://127.0.0.1:8000/health
    python deploy/healthcheck.py http://127.0.0.1:5005/status --jwt-secret-env NORDHEM_RASA_JWT_SECRET
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
import urllib.request
from typing import Callable, Mapping, Optional, Sequence

from core.signing import rasa_admin_token

TIMEOUT_SECONDS = 3.0
TOKEN_LIFETIME_SECONDS = 60


def check(url: str, token: Optional[str] = None, timeout: float = TIMEOUT_SECONDS) -> Optional[str]:
    """None when the URL answers 2xx, else why not (one line for the probe's log)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own URL
            return None if 200 <= response.status < 300 else f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (OSError, ValueError) as error:
        return f"{url} did not answer: {error}"


def main(argv: Optional[Sequence[str]] = None, environ: Mapping[str, str] = os.environ,
         clock: Callable[[], float] = time.time) -> int:
    parser = argparse.ArgumentParser(description="GET a URL of this container; exit 0 on a 2xx answer")
    parser.add_argument("url")
    parser.add_argument("--jwt-secret-env", metavar="NAME",
                        help="sign a short-lived admin JWT with this environment variable's value")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS)
    args = parser.parse_args(argv)
    token = None
    if args.jwt_secret_env:
        secret = environ.get(args.jwt_secret_env, "")
        if not secret:
            print(f"{args.jwt_secret_env} is not set: cannot sign a token for {args.url}", file=sys.stderr)
            return 1
        token = rasa_admin_token(secret, clock(), TOKEN_LIFETIME_SECONDS)
    problem = check(args.url, token, args.timeout)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
