"""moto server for the test suite, with one difference: requests are served one at a time.

moto's own server handles requests on many threads without locking its DynamoDB backend,
so two concurrent conditional writes can both pass their condition. Real DynamoDB (and
LocalStack) never allow that, and the concurrency tests of this project exist precisely to
check that races are decided by conditions. Serialising requests gives the test suite
DynamoDB's per-item atomicity without changing anything else about moto.

It also exits when the process that started it goes away (it watches its parent), so a
test run never leaves servers behind.
"""

import argparse
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
        with lock:
            # Materialise the body inside the lock: the backend's work happens while it is produced.
            return list(app(environ, start_response))

    run_simple(args.host, args.port, serialised, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
