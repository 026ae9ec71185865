"""Starts a real `idra serve` in a temporary directory and talks to it.

Every request goes through curl over HTTPS, verified against the node's own
trust anchor (DATA/tls/ca.pem). A test that cannot start the server fails; it
never skips.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

IDRA_BIN = os.environ.get("IDRA_BIN", "")
CURL = os.environ.get("CURL", "curl")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case name -> last value
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"Response({self.status}, {self.body[:300]!r})"


class Node:
    """One running idra node with its own data directory."""

    def __init__(self, config=None, data_dir=None):
        if not IDRA_BIN or not os.path.exists(IDRA_BIN):
            raise RuntimeError(f"IDRA_BIN does not name the idra binary: {IDRA_BIN!r}")
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="idra-it-")
        self.config = config or {}
        self.proc = None
        self.stderr_lines = []
        self.port = None
        self.plain_port = None

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout=60):
        cfg_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".config.json")
        cfg = {"threads": 2, "listen": "127.0.0.1:0", "plain_http": {"listen": "127.0.0.1:0"}}
        cfg.update(self.config)
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
        self.config_path = cfg_path
        self.proc = subprocess.Popen(
            [IDRA_BIN, "serve", "--data", self.data_dir, "--config", cfg_path],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout_lines = []
        self.drains = [threading.Thread(target=self._drain_stderr, daemon=True)]
        self.drains[0].start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.stdout_lines.append(line)
            m = re.match(r"idra listening on https://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
            m = re.match(r"plain HTTP \(CRL, OCSP\) on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.plain_port = int(m.group(1))
            if line.startswith("admin:") and self.port is not None:
                self.drains.append(threading.Thread(target=self._drain_stdout, daemon=True))
                self.drains[-1].start()
                break
        if self.port is None:
            self.proc.kill()
            out = "".join(self.stdout_lines)
            raise RuntimeError(f"idra did not start: stdout={out!r} stderr={''.join(self.stderr_lines)[-2000:]!r}")
        with open(os.path.join(self.data_dir, "admin.json")) as f:
            self.admin = json.load(f)
        return self

    def _drain_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _drain_stdout(self):
        for line in self.proc.stdout:
            self.stdout_lines.append(line)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("idra did not stop within %ds of the signal" % timeout)
        if self.proc:
            for t in self.drains:
                t.join(timeout=5)
            self.proc.stdout.close()
            self.proc.stderr.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            if getattr(self, "config_path", None) and os.path.exists(self.config_path):
                os.remove(self.config_path)

    # -- requests ----------------------------------------------------------
    @property
    def base(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def cacert(self):
        return os.path.join(self.data_dir, "tls", "ca.pem")

    def admin_auth(self):
        return (self.admin["id"], self.admin["secret"])

    def curl(self, method, path, body=None, auth=None, headers=None, content_type="application/json",
             raw_args=None):
        args = [CURL, "-sS", "--http1.1", "--cacert", self.cacert, "-X", method,
                "-D", "-", "-o", "-", "--max-time", "30"]
        if method == "HEAD":
            args = [a for a in args if a not in ("-X", "HEAD")] + ["-I"]
        if auth is not None:
            user, secret = auth
            # Handle.Net clients percent-encode the user name "index:handle".
            from urllib.parse import quote
            args += ["-u", quote(user, safe="") + ":" + secret]
        for h in headers or []:
            args += ["-H", h]
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if content_type:
                args += ["-H", "Content-Type: " + content_type]
            args += ["--data-binary", "@-"]
        args += raw_args or []
        args.append(self.base + path)
        proc = subprocess.run(args, input=body, capture_output=True, timeout=60)
        if proc.returncode != 0:
            raise RuntimeError(f"curl failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
        return parse_http(proc.stdout)


def parse_http(raw):
    # curl -D - -o - prints header blocks (maybe a 100 Continue first), then the body.
    while True:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if status == 100 and sep:
            raw = rest
            continue
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return Response(status, headers, rest.decode("utf-8", errors="replace"))


def tls_connect(node, timeout=5):
    """A raw TLS connection to the node (for slow clients and connection limits)."""
    ctx = ssl.create_default_context(cafile=node.cacert)
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=timeout)
    return ctx.wrap_socket(sock, server_hostname="localhost")
