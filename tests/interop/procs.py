"""Starting, waiting for and stopping the processes the interop tests need.

Every process is started with its output sent to a log file, registered in
``RUNNING`` (so a failing test can show its log), and stopped by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

# Bounds for every wait in this module (seconds). They only bound loops; no
# test asserts on how long anything took.
PORT_WAIT_S = 30.0
STOP_WAIT_S = 10.0
POLL_S = 0.05
LOG_TAIL_BYTES = 16_000

RUNNING: list["ManagedProcess"] = []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


class ManagedProcess:
    """A child process with a log file, stopped by PID in ``stop()``."""

    def __init__(self, name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "wb")
        full_env = dict(os.environ)
        if env:
            full_env.update(env)
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=str(cwd) if cwd else None,
                start_new_session=True,  # own process group: never shares our signals
            )
        except OSError:
            self._log.close()
            raise
        self.pid = self.proc.pid
        RUNNING.append(self)

    def log_text(self, tail: int = LOG_TAIL_BYTES) -> str:
        try:
            self._log.flush()
            data = self.log_path.read_bytes()
        except OSError as exc:  # pragma: no cover - diagnostics only
            return f"<could not read {self.log_path}: {exc}>"
        if len(data) > tail:
            data = b"...[truncated]...\n" + data[-tail:]
        return data.decode("utf-8", "replace")

    def describe(self) -> str:
        state = "running" if self.proc.poll() is None else f"exited with {self.proc.returncode}"
        return f"{self.name} (pid {self.pid}, {state}): {' '.join(self.argv)}"

    def wait_for_port(self, port: int, timeout: float = PORT_WAIT_S) -> None:
        """Poll until ``port`` accepts TCP connections; raise with the log if not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.describe()}\nexited before listening on 127.0.0.1:{port}. Log:\n{self.log_text()}"
                )
            if port_accepts(port):
                return
            time.sleep(POLL_S)
        raise RuntimeError(
            f"{self.describe()}\ndid not listen on 127.0.0.1:{port} within {timeout:.0f}s. Log:\n{self.log_text()}"
        )

    def stop(self) -> None:
        """SIGTERM by PID, then SIGKILL if it has not exited after a bounded wait."""
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=STOP_WAIT_S)
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


def stop_all() -> None:
    for p in list(RUNNING):
        p.stop()
