"""What the HTTP measurements run against: gunicorn on a free loopback port, and a mail sink.

`Gunicorn(env, ...)` starts `gunicorn 'attendance:create_app()'` (or a floor of bench/floors.py) bound to
127.0.0.1, waits until /healthz answers, and stops it (SIGTERM, then SIGKILL) when the `with` block ends. Its
output goes to a log file.

`SmtpSink()` is a minimal SMTP server on 127.0.0.1 that accepts and discards every message, counting them per
recipient: registrations email the delegate a badge PDF, and the bench must neither write into the repo's
instance/outbox nor send mail.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def flask(env: dict, *args: str, log: Path) -> None:
    """`flask --app attendance ARGS` in a subprocess; raises with the log's tail when it fails."""
    with open(log, "ab") as out:
        completed = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "attendance", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=300,
        )
    if completed.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed; see {log}")


def processes_cpu_seconds(select) -> float:
    """CPU time (user + system) used so far by the processes for which `select(pid, ppid, name)` is true;
    0 where /proc is missing. Processes that ended meanwhile are not counted."""
    if not os.path.isdir("/proc"):
        return 0.0
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                line = stat.read()
        except OSError:
            continue  # a process that just ended
        name, fields = line[line.index("(") + 1 : line.rindex(")")], line[line.rindex(")") + 2 :].split()
        # after the name: state, ppid, ..., utime (14th field of the line) and stime (15th)
        if select(int(entry), int(fields[1]), name):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL processes (its backends serve the app's queries)."""
    return processes_cpu_seconds(lambda _pid, _ppid, name: name.startswith("postgres"))


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time the whole machine has used so far, and the time the hypervisor gave to other virtual machines
    while this one's cores wanted it ("steal"), from /proc/stat; (0, 0) where it is missing. Used: user, nice,
    system, irq and softirq time of every core (not idle, I/O wait or steal)."""
    try:
        with open("/proc/stat") as stat:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    except (OSError, ValueError):
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


class Gunicorn:
    def __init__(
        self,
        env: dict,
        log: Path,
        *,
        workers: int = 2,
        worker_class: str = "gthread",
        threads: int = 1,
        app: str = "attendance:create_app()",
    ):
        """`app`: the WSGI app, the attendance app by default, or a floor of bench/floors.py."""
        self.env, self.log = env, log
        self.port = free_port()
        self.command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--pythonpath",
            str(ROOT / "bench"),
            app,
        ]
        self.description = f"{workers} workers, {worker_class}" + (
            f" x {threads} threads" if worker_class == "gthread" else ""
        )
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self._out = open(self.log, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {self.log}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    connection.close()
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer /healthz within 60 s; see {self.log}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the arbiter and its workers; 0 where /proc is missing."""
        if self.process is None:
            return 0.0
        pid = self.process.pid
        return processes_cpu_seconds(lambda entry, ppid, _name: entry == pid or ppid == pid)

    def __exit__(self, *_exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the arbiter stops its own workers
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # its own session: only gunicorn and its workers
                self.process.wait(5)
        self._out.close()


class _SmtpHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.wfile.write(b"220 bench-sink ESMTP\r\n")
        in_data, recipients = False, []
        while True:
            line = self.rfile.readline(1 << 20)
            if not line:
                return
            if in_data:
                if line in (b".\r\n", b".\n"):
                    in_data = False
                    self.server.received(recipients)
                    recipients = []
                    self.wfile.write(b"250 OK\r\n")
                continue
            verb = line[:4].upper()
            if verb == b"RCPT":
                recipients.append(line.decode(errors="replace").split(":", 1)[1].strip().strip("<>").lower())
            if verb in (b"MAIL", b"RSET"):
                recipients = []
            if verb == b"EHLO":
                self.wfile.write(b"250-bench-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                in_data = True
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 Bye\r\n")
                return
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.wfile.write(b"250 OK\r\n")
            else:
                self.wfile.write(b"502 Not implemented\r\n")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.messages = 0
        #: how many messages each address received
        self.recipients: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.port = self.server_address[1]

    def received(self, recipients: list[str]) -> None:
        with self._lock:
            self.messages += 1
            self.recipients.update(recipients)

    def __enter__(self) -> SmtpSink:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc) -> None:
        self.shutdown()
        self.server_close()
