"""moto server for the test suite, with one difference: requests are served one at a time.

moto's own server handles requests on many threads without locking its DynamoDB backend,
so two concurrent conditional writes can both pass their condition. Real DynamoDB (and
LocalStack) never allow that, and the concurrency tests of this project exist precisely to
check that races are decided by conditions. Serialising requests gives the test suite
DynamoDB's per-item atomicity without changing anything else about moto.

For the tests of the SES adapter, `GET /_harness/ses/sent` lists the emails moto's SES
accepted (what moto keeps as `sent_messages`, which its own API does not show).

It also exits when the process that started it goes away (it watches its parent), so a
test run never leaves servers behind.
"""

import argparse
import json
import os
import threading
import time

from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)


def watch_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def sent_emails() -> bytes:
    from moto.ses.models import ses_backends

    sent = []
    for account in list(ses_backends.keys()):
        for region in list(ses_backends[account].keys()):
            for m in ses_backends[account][region].sent_messages:
                sent.append({
                    "account": account,
                    "region": region,
                    "id": m.id,
                    "source": getattr(m, "source", None),
                    "destinations": getattr(m, "destinations", None),
                    "subject": getattr(m, "subject", None),
                    "body": getattr(m, "body", None),
                    "raw": getattr(m, "raw_data", None),
                })
    return json.dumps({"sent": sent}).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--exit-with-parent", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))

    if args.exit_with_parent:
        threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def serialised(environ, start_response):
        if environ.get("PATH_INFO") == "/_harness/ses/sent":
            with lock:
                body = sent_emails()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [body]
        with lock:
            # Materialise the body inside the lock: the backend's work happens while it is produced.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
