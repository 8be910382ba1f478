"""Run moto in server mode for aws-settle's test bed.

Usage: moto_server.py HOST PORT LOGFILE

Binds HOST:PORT (PORT 0 picks a free port), prints one line
`SETTLE_MOTO_READY <port>` on stdout once it accepts connections, then sends
everything it logs to LOGFILE. It exits by itself as soon as the process that
started it is gone (its parent pid changes), so a killed test run never leaves
a server behind.
"""

import os
import sys
import threading
import time


def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main() -> None:
    host, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    parent = os.getppid()
    threading.Thread(target=watch_parent, args=(parent,), daemon=True).start()

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True)
    log_file = open(log, "a", buffering=1)
    os.dup2(log_file.fileno(), 2)
    print(f"SETTLE_MOTO_READY {server.server_port}", flush=True)
    os.dup2(log_file.fileno(), 1)
    server.serve_forever()


if __name__ == "__main__":
    main()
