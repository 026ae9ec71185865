"""The tamper-evident audit log over real HTTPS: every request leaves one
record with the right fields; only principals granted readAudit query it;
`idra audit verify` proves checkpoints consistent and entries included;
changing one byte of a stored leaf or hash makes verification fail; and
repeated SIGKILLs under a write and read load lose no acknowledged change's
record and break no checkpoint published before the crash.
"""
import base64
import hashlib
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from urllib.parse import quote

from idra_harness import IDRA_BIN, Node, tls_connect


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(args, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p.stdout


def url_value(index, text):
    return {"index": index, "type": "URL", "data": {"format": "string", "value": text}}


class Client:
    """A keep-alive HTTPS client (http.client), for loads curl would be too slow for."""

    def __init__(self, node, auth=None):
        ctx = ssl.create_default_context(cafile=node.cacert)
        self.conn = http.client.HTTPSConnection("127.0.0.1", node.port, context=ctx, timeout=10)
        self.headers = {}
        if auth:
            token = base64.b64encode((quote(auth[0], safe="") + ":" + auth[1]).encode()).decode()
            self.headers["Authorization"] = "Basic " + token

    def request(self, method, path, body=None):
        headers = dict(self.headers)
        if body is not None:
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, r.getheader("x-request-id"), data

    def close(self):
        self.conn.close()


def checkpoint_of(note):
    lines = note.split("\n")
    return int(lines[1]), lines[2]


class AuditBase(unittest.TestCase):
    def entries(self, node, query="", auth=None, raw_args=None):
        r = node.curl("GET", "/api/audit/entries" + query, auth=auth or node.admin_auth(), raw_args=raw_args)
        self.assertEqual(r.status, 200, r)
        return r.json()

    def wait_for_entry(self, node, request_id, query="", timeout=5):
        """The entry of |request_id| (reads are committed within max_delay_ms)."""
        deadline = time.time() + timeout
        while True:
            for e in self.entries(node, query + ("&" if query else "?") + "limit=1000")["entries"]:
                if e["record"]["request_id"] == request_id:
                    return e
            if time.time() > deadline:
                self.fail(f"no audit entry for request {request_id} ({query})")
            time.sleep(0.1)

    def wait_for_checkpoint(self, node, at_least, timeout=10):
        deadline = time.time() + timeout
        while True:
            r = node.curl("GET", "/api/audit/checkpoint")
            if r.status == 200 and checkpoint_of(r.body)[0] >= at_least:
                return r.body
            if time.time() > deadline:
                self.fail(f"no checkpoint of size >= {at_least}: {r}")
            time.sleep(0.1)

    def tree_size(self, node):
        r = node.curl("GET", "/api/audit/export?limit=1", auth=node.admin_auth())
        self.assertEqual(r.status, 200, r)
        return int(r.headers["x-idra-tree-size"])

    def verify(self, node, *args):
        return run([IDRA_BIN, "audit", "verify", "--server", node.base, "--data", node.data_dir] + list(args))


class AuditLog(AuditBase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="idra-audit-")
        cls.node = Node(config={"audit": {"checkpoint_interval_ms": 200, "max_delay_ms": 50}}).start()
        cls.admin = cls.node.admin_auth()
        r = cls.node.curl("PUT", "/api/prefixes/88.100", auth=cls.admin)
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def issue(self, name, profile, org=None):
        key, csr = self.path(name + ".key"), self.path(name + ".csr")
        check(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-subj", "/CN=" + name, "-out", csr])
        out = self.path(name + ".pem")
        args = [IDRA_BIN, "ca", "issue", "--csr", csr, "--profile", profile, "--cn", name, "--out", out,
                "--data", self.node.data_dir, "--server", self.node.base]
        if org:
            args += ["--org", org]
        check(args)
        return out, key

    def test_reads_and_changes_leave_records_with_their_fields(self):
        n = self.node
        r = n.curl("PUT", "/api/handles/88.100/REC-1", auth=self.admin,
                   body=[url_value(1, "https://example.com/1"), url_value(2, "https://example.com/2"),
                         {"index": 300, "type": "HS_SECKEY", "data": {"format": "string", "value": "not-in-the-log-42"}}])
        self.assertEqual(r.status, 201, r)
        put_id = r.headers["x-request-id"]
        self.assertRegex(put_id, r"^[0-9a-f]{32}$")
        r = n.curl("GET", "/api/handles/88.100/REC-1?index=1")
        self.assertEqual(r.status, 200, r)
        get_id = r.headers["x-request-id"]
        r = n.curl("DELETE", "/api/handles/88.100/REC-1?index=2", auth=self.admin)
        self.assertEqual(r.status, 200, r)
        del_id = r.headers["x-request-id"]
        r = n.curl("GET", "/api/handles/88.100/NOPE")
        self.assertEqual(r.status, 404, r)
        missing_id = r.headers["x-request-id"]
        r = n.curl("PUT", "/api/handles/88.100/REC-2", body=[url_value(1, "https://example.com/x")])
        self.assertEqual(r.status, 401, r)
        refused_id = r.headers["x-request-id"]

        put = self.wait_for_entry(n, put_id, "?identifier=88.100/REC-1")["record"]
        self.assertEqual(put["action"], "register")
        self.assertEqual(put["principal"], {"kind": "handle", "id": self.admin[0], "org": "", "role": "admin",
                                            "cert_sha256": ""})
        self.assertEqual(put["client"], "127.0.0.1")
        self.assertEqual(put["resources"], ["88.100/REC-1"])
        self.assertEqual(put["decision"], "allow")
        self.assertTrue(put["policies"], put)
        self.assertEqual((put["http_status"], put["handle_code"]), (201, 1))
        self.assertGreater(put["duration_us"], 0)

        get = self.wait_for_entry(n, get_id, "?identifier=88.100/REC-1")["record"]
        self.assertEqual((get["action"], get["http_status"], get["handle_code"]), ("resolve", 200, 1))
        self.assertEqual(get["principal"]["kind"], "anonymous")
        self.assertEqual(get["value_indexes"], [1])

        dele = self.wait_for_entry(n, del_id, "?identifier=88.100/REC-1")["record"]
        self.assertEqual((dele["action"], dele["http_status"]), ("update", 200))

        missing = self.wait_for_entry(n, missing_id, "?identifier=88.100/NOPE")["record"]
        self.assertEqual((missing["action"], missing["http_status"], missing["handle_code"]), ("resolve", 404, 100))
        self.assertEqual(missing["value_indexes"], [])

        refused = self.wait_for_entry(n, refused_id, "?identifier=88.100/REC-2")["record"]
        self.assertEqual((refused["decision"], refused["http_status"], refused["handle_code"]), ("deny", 401, 402))
        self.assertEqual(refused["action"], "register")

        # The same request id is in the access log line.
        self.assertTrue(any(f'"request_id":"{put_id}"' in l for l in n.stderr_lines))
        # Secrets are never logged: not the HS_SECKEY value, not the Basic password.
        export = n.curl("GET", "/api/audit/export", auth=self.admin)
        self.assertEqual(export.status, 200, export)
        leaves = [base64.b64decode(json.loads(l)["leaf"]) for l in export.body.splitlines()]
        self.assertTrue(leaves)
        for leaf in leaves:
            self.assertNotIn(b"not-in-the-log-42", leaf)
            self.assertNotIn(self.admin[1].encode(), leaf)
        # Filters: by action and decision, paged with a cursor.
        denied = self.entries(n, "?decision=deny&limit=1000")["entries"]
        self.assertTrue(denied)
        self.assertTrue(all(e["record"]["decision"] == "deny" for e in denied))
        page = self.entries(n, "?action=register&limit=1")
        self.assertEqual(len(page["entries"]), 1)
        self.assertIsNotNone(page["next_cursor"])
        nxt = self.entries(n, f"?action=register&limit=1&cursor={page['next_cursor']}")
        self.assertGreater(nxt["entries"][0]["index"], page["entries"][0]["index"])
        # Each entry's leaf bytes are what its record says.
        e = page["entries"][0]
        self.assertEqual(json.loads(base64.b64decode(e["leaf"])), e["record"])

    def test_ca_and_policy_changes_are_logged(self):
        n = self.node
        token = check([IDRA_BIN, "ca", "token", "create", "88.100/DEV-9", "--profile", "device", "--ttl", "1h",
                       "--data", n.data_dir, "--server", n.base]).strip()
        self.assertNotEqual(token, "")
        r = n.curl("POST", "/api/policy/reload", auth=self.admin)
        self.assertEqual(r.status, 200, r)
        reload_id = r.headers["x-request-id"]
        # The reload's record committed before the answer: no waiting.
        found = [e for e in self.entries(n, "?action=reloadPolicy&limit=1000")["entries"]
                 if e["record"]["request_id"] == reload_id]
        self.assertEqual(len(found), 1)
        tok = self.entries(n, "?action=issueToken&identifier=88.100/DEV-9")["entries"]
        self.assertEqual(len(tok), 1, tok)
        self.assertEqual(tok[0]["record"]["http_status"], 201)
        self.assertNotIn(token.split(".")[1].encode(), base64.b64decode(tok[0]["leaf"]))

    def test_only_readaudit_principals_query_and_their_queries_are_logged(self):
        n = self.node
        auditor = self.issue("auditor-1", "auditor", org="audit-co")
        partner = self.issue("partner-1", "partner", org="acme")
        r = n.curl("GET", "/api/audit/entries?limit=5", raw_args=["--cert", auditor[0], "--key", auditor[1]])
        self.assertEqual(r.status, 200, r)
        auditor_id = r.headers["x-request-id"]
        r = n.curl("GET", "/api/audit/proof/consistency?from=1&to=2", raw_args=["--cert", partner[0], "--key", partner[1]])
        self.assertEqual(r.status, 403, r)
        r = n.curl("GET", "/api/audit/entries")
        self.assertEqual(r.status, 401, r)
        r = n.curl("GET", "/api/audit/export")
        self.assertEqual(r.status, 401, r)
        # The checkpoint and the key are public.
        self.wait_for_checkpoint(n, 1)
        self.assertEqual(n.curl("GET", "/api/audit/key").status, 200)
        logged = self.wait_for_entry(n, auditor_id, "?action=readAudit")["record"]
        self.assertEqual(logged["principal"]["kind"], "certificate")
        self.assertEqual(logged["principal"]["role"], "auditor")
        self.assertEqual(logged["principal"]["org"], "audit-co")
        self.assertRegex(logged["principal"]["cert_sha256"], r"^[0-9a-f]{64}$")
        self.assertEqual(logged["decision"], "allow")
        # `idra audit verify` as the auditor, with its certificate.
        size = self.tree_size(n)
        self.wait_for_checkpoint(n, size)
        p = self.verify(n, "--client-cert", auditor[0], "--client-key", auditor[1], "--index", "0",
                        "--state", self.path("auditor-state.json"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        # The partner cannot fetch proofs.
        p = self.verify(n, "--client-cert", partner[0], "--client-key", partner[1], "--index", "0")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("HTTP 403", p.stderr)

    def test_bad_queries_are_400_with_a_message(self):
        n = self.node
        for q in ("/api/audit/entries?limit=0", "/api/audit/entries?decision=maybe", "/api/audit/entries?bogus=1",
                  "/api/audit/entries?from=2026-13-01T00:00:00Z", "/api/audit/proof/inclusion?index=5",
                  "/api/audit/proof/inclusion?index=999999&size=3", "/api/audit/proof/consistency?from=9&to=3",
                  "/api/audit/export?from=5&to=2", "/api/audit/export?to=99999999"):
            r = n.curl("GET", q, auth=self.admin)
            self.assertEqual(r.status, 400, (q, r))
            self.assertTrue(r.json()["message"], (q, r))
        self.assertEqual(n.curl("POST", "/api/audit/entries", auth=self.admin, body={}).status, 405)

    def test_requests_the_http_layer_refuses_are_logged(self):
        # Answers the HTTP layer gives without running the request (a header
        # too large, a body too large, bytes that are not HTTP) leave a
        # record too, with the request id the client saw.
        n = self.node
        big = n.curl("GET", "/api/handles/88.100/A", headers=["X-Big: " + "b" * (20 << 10)])
        self.assertEqual(big.status, 431, big)

        def raw_request(data):
            """Sends |data| over TLS; returns the status and X-Request-Id of the answer."""
            sock = tls_connect(n)
            try:
                sock.sendall(data)
                raw = b""
                while b"\r\n\r\n" not in raw:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    raw += chunk
            finally:
                sock.close()
            head = raw.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            rid = [l.split(":", 1)[1].strip() for l in head if l.lower().startswith("x-request-id:")]
            return int(head[0].split()[1]), rid[0] if rid else None

        status, large_id = raw_request(b"PUT /api/handles/88.100/A HTTP/1.1\r\nHost: x\r\n"
                                       b"Content-Length: 2000000\r\n\r\n")
        self.assertEqual(status, 413)
        status, malformed_id = raw_request(b"GET /api/handles/88.100/A HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        self.assertEqual(status, 400)
        for rid, status in ((big.headers["x-request-id"], 431), (large_id, 413), (malformed_id, 400)):
            e = self.wait_for_entry(n, rid, "?action=badRequest")
            rec = e["record"]
            self.assertEqual(rec["http_status"], status, rec)
            self.assertEqual(rec["decision"], "deny", rec)
            self.assertEqual(rec["principal"]["kind"], "anonymous", rec)
            self.assertEqual(rec["client"], "127.0.0.1", rec)
            self.assertGreater(rec["time_ms"], 1700000000000, rec)

    def test_proofs_consistency_across_checkpoints_and_exports(self):
        n = self.node
        state = self.path("state.json")
        size = self.tree_size(n)
        first = self.wait_for_checkpoint(n, size)
        p = self.verify(n, "--state", state, "--index", "0", "--index", str(checkpoint_of(first)[0] - 1))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(state) as f:
            kept = json.load(f)
        self.assertGreaterEqual(kept["size"], checkpoint_of(first)[0])
        for i in range(5):
            self.assertEqual(n.curl("GET", f"/api/handles/88.100/MORE-{i}").status, 404)
        size = self.tree_size(n)
        self.wait_for_checkpoint(n, size + 1)
        p = self.verify(n, "--state", state, "--full")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("consistent with the checkpoint of size", p.stdout)
        with open(state) as f:
            self.assertGreater(json.load(f)["size"], kept["size"])

        # A state file that claims another root for an old size fails.
        forged = dict(kept)
        forged["root"] = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        with open(self.path("forged.json"), "w") as f:
            json.dump(forged, f)
        p = self.verify(n, "--state", self.path("forged.json"))
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("not consistent", p.stderr)
        # Another key fails the signature.
        key = n.curl("GET", "/api/audit/key").body.strip()
        name = key.split("+")[0]
        pub = hashlib.sha256(b"another key").digest()
        kid = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex()
        other = name + "+" + kid + "+" + base64.b64encode(b"\x01" + pub).decode()
        p = self.verify(n, "--key", other)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("does not verify", p.stderr)

        # verify-export, offline.
        note = self.wait_for_checkpoint(n, self.tree_size(n))
        cp_file, key_file, exp_file = self.path("cp.txt"), self.path("key.txt"), self.path("export.ndjson")
        with open(cp_file, "w") as f:
            f.write(note)
        with open(key_file, "w") as f:
            f.write(key + "\n")
        lines, start = [], 0
        while start < checkpoint_of(note)[0]:
            r = n.curl("GET", f"/api/audit/export?from={start}&limit=7", auth=self.admin)
            self.assertEqual(r.status, 200, r)
            lines += r.body.splitlines()
            start = int(r.headers.get("x-idra-next-from", checkpoint_of(note)[0]))
        with open(exp_file, "w") as f:
            f.write("\n".join(lines) + "\n")
        check([IDRA_BIN, "audit", "verify-export", exp_file, "--checkpoint", cp_file, "--key", key_file])
        # One byte changed in one exported leaf: the root no longer matches.
        doctored = json.loads(lines[1])
        leaf = bytearray(base64.b64decode(doctored["leaf"]))
        leaf[leaf.index(b"request_id") + 14] ^= 0x01
        doctored["leaf"] = base64.b64encode(bytes(leaf)).decode()
        doctored["record"] = None
        with open(exp_file, "w") as f:
            f.write("\n".join(lines[:1] + [json.dumps(doctored)] + lines[2:]) + "\n")
        p = run([IDRA_BIN, "audit", "verify-export", exp_file, "--checkpoint", cp_file, "--key", key_file])
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("altered", p.stderr)
        # A missing line is noticed too.
        with open(exp_file, "w") as f:
            f.write("\n".join(lines[:2] + lines[3:]) + "\n")
        p = run([IDRA_BIN, "audit", "verify-export", exp_file, "--checkpoint", cp_file, "--key", key_file])
        self.assertEqual(p.returncode, 1, p.stdout)


class Pseudonymized(AuditBase):
    def test_client_addresses_are_keyed_hashes(self):
        tmp = tempfile.mkdtemp(prefix="idra-audit-p-")
        key_file = os.path.join(tmp, "pseudonym.key")
        with open(key_file, "w") as f:
            f.write("0123456789abcdef0123456789abcdef\n")
        node = Node(config={"audit": {"pseudonymize_key_file": key_file, "max_delay_ms": 10}}).start()
        try:
            r = node.curl("GET", "/api/handles/IDRA/nothing")
            rid = r.headers["x-request-id"]
            rec = self.wait_for_entry(node, rid)["record"]
            self.assertRegex(rec["client"], r"^[0-9a-f]{32}$")
            self.assertNotIn("127.0.0.1", base64.b64decode(self.wait_for_entry(node, rid)["leaf"]).decode())
        finally:
            node.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


def flip_everywhere(path, needle, replacement):
    """Replaces every copy of |needle| in the file (LMDB keeps old page copies too)."""
    with open(path, "rb") as f:
        data = f.read()
    count = data.count(needle)
    with open(path, "wb") as f:
        f.write(data.replace(needle, replacement))
    return count


class Tamper(AuditBase):
    def test_changing_a_stored_leaf_or_hash_fails_verification(self):
        tmp = tempfile.mkdtemp(prefix="idra-audit-t-")
        node = Node(config={"audit": {"checkpoint_interval_ms": 100, "max_delay_ms": 10}}).start()
        state = os.path.join(tmp, "state.json")
        try:
            admin = node.admin_auth()
            self.assertEqual(node.curl("PUT", "/api/prefixes/88.7", auth=admin).status, 200)
            r = node.curl("PUT", "/api/handles/88.7/T1", auth=admin, body=[url_value(1, "https://e.example/1")])
            self.assertEqual(r.status, 201, r)
            victim_id = r.headers["x-request-id"]
            for i in range(6):
                node.curl("GET", f"/api/handles/88.7/T{i}")
            victim = self.wait_for_entry(node, victim_id)
            self.wait_for_checkpoint(node, self.tree_size(node))
            p = self.verify(node, "--state", state, "--full", "--index", str(victim["index"]))
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            leaf0 = base64.b64decode(self.entries(node, "?limit=1")["entries"][0]["leaf"])
            node.stop()

            db = os.path.join(node.data_dir, "db", "data.mdb")
            # One hex digit of the request id of a stored leaf: still a valid leaf.
            old = victim_id.encode()
            new = old[:-1] + (b"0" if old[-1:] != b"0" else b"1")
            self.assertGreaterEqual(flip_everywhere(db, old, new), 1)
            node.start()
            p = self.verify(node, "--state", state, "--full")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("altered", p.stderr)
            p = self.verify(node, "--state", state, "--index", str(victim["index"]))
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("not proven included", p.stderr)
            node.stop()

            # Put the leaf back; now change one stored hash (entry 0's leaf
            # hash, part of entry 1's inclusion proof).
            self.assertGreaterEqual(flip_everywhere(db, new, old), 1)
            h0 = hashlib.sha256(b"\x00" + leaf0).digest()
            bad = bytes([h0[0] ^ 0x80]) + h0[1:]
            self.assertGreaterEqual(flip_everywhere(db, h0, bad), 1)
            node.start()
            p = self.verify(node, "--state", state, "--index", "1")
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("not proven included", p.stderr)
        finally:
            node.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


class Crash(AuditBase):
    ROUNDS = 5

    def test_sigkill_under_load_loses_no_acknowledged_change_or_checkpoint(self):
        tmp = tempfile.mkdtemp(prefix="idra-audit-c-")
        node = Node(config={"audit": {"checkpoint_interval_ms": 100, "max_delay_ms": 20}})
        try:
            node.start()
            admin = node.admin_auth()
            self.assertEqual(node.curl("PUT", "/api/prefixes/88.9", auth=admin).status, 200)
            acknowledged = {}  # handle -> request id of its 201
            checkpoints = []  # notes seen before a crash
            for rnd in range(self.ROUNDS):
                before = len(acknowledged)
                stop = threading.Event()
                lock = threading.Lock()

                def writer(w):
                    c = Client(node, admin)
                    i = 0
                    try:
                        while not stop.is_set():
                            handle = f"88.9/R{rnd}-W{w}-{i}"
                            status, rid, _ = c.request("PUT", "/api/handles/" + handle,
                                                       [url_value(1, "https://e.example/" + handle)])
                            if status == 201:
                                with lock:
                                    acknowledged[handle] = rid
                            i += 1
                    except (OSError, http.client.HTTPException):
                        pass  # the node was killed mid-request: unacknowledged
                    finally:
                        c.close()

                def reader():
                    c = Client(node)
                    try:
                        while not stop.is_set():
                            c.request("GET", "/api/handles/88.9/R0-W0-0")
                            status, _, body = c.request("GET", "/api/audit/checkpoint")
                            if status == 200:
                                with lock:
                                    checkpoints.append(body.decode())
                    except (OSError, http.client.HTTPException):
                        pass
                    finally:
                        c.close()

                threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
                threads += [threading.Thread(target=reader) for _ in range(2)]
                for t in threads:
                    t.start()
                time.sleep(1.5)
                node.proc.send_signal(signal.SIGKILL)
                node.proc.wait()
                stop.set()
                for t in threads:
                    t.join(timeout=20)
                node.stop()
                node.start()

                # Every acknowledged change is there, with its record.
                by_id = {}
                cursor = 0
                while True:
                    page = self.entries(node, f"?action=register&limit=1000&cursor={cursor}")
                    for e in page["entries"]:
                        by_id[e["record"]["request_id"]] = e["record"]
                    if page["next_cursor"] is None:
                        break
                    cursor = page["next_cursor"]
                c = Client(node)
                try:
                    for handle, rid in acknowledged.items():
                        status, _, _ = c.request("GET", "/api/handles/" + handle)
                        self.assertEqual(status, 200, f"round {rnd}: acknowledged {handle} is gone")
                        self.assertIn(rid, by_id, f"round {rnd}: the record of {handle} is gone")
                        self.assertEqual(by_id[rid]["resources"], [handle])
                        self.assertEqual(by_id[rid]["http_status"], 201)
                finally:
                    c.close()
                self.assertGreater(len(acknowledged), before, f"round {rnd}: the load made no change")

            # Every checkpoint published before a crash is consistent with the log now.
            self.assertTrue(checkpoints)
            self.wait_for_checkpoint(node, self.tree_size(node))
            key = node.curl("GET", "/api/audit/key").body.strip()
            seen = {checkpoint_of(n): n for n in checkpoints}
            for (size, root), note in sorted(seen.items()):
                state = os.path.join(tmp, f"state-{size}.json")
                with open(state, "w") as f:
                    json.dump({"vkey": key, "size": size, "root": root, "checkpoint": note}, f)
                p = self.verify(node, "--state", state)
                self.assertEqual(p.returncode, 0, f"checkpoint {size}: {p.stdout}{p.stderr}")
            p = self.verify(node, "--full")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            node.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
