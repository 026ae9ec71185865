"""The Handle.Net v9 REST API of a real node, end to end over HTTPS with curl."""
import json
import os
import re
import time
import unittest

from idra_harness import Node, tls_connect

PREFIX = "88.100.1"


def url_value(index, url, **extra):
    v = {"index": index, "type": "URL", "data": {"format": "string", "value": url}}
    v.update(extra)
    return v


class HandleApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node({"limits": {"max_body_bytes": 65536},
                         "store": {"initial_map_bytes": 1048576, "prefault_max_bytes": 0}}).start()
        r = cls.node.curl("PUT", f"/api/prefixes/{PREFIX}", auth=cls.node.admin_auth())
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    def put(self, handle, body, query="", auth="admin", **kw):
        a = self.node.admin_auth() if auth == "admin" else auth
        return self.node.curl("PUT", f"/api/handles/{handle}{query}", body=body, auth=a, **kw)

    def get(self, handle, query="", **kw):
        return self.node.curl("GET", f"/api/handles/{handle}{query}", **kw)

    # -- bootstrap ---------------------------------------------------------
    def test_bootstrap_files(self):
        admin_json = os.path.join(self.node.data_dir, "admin.json")
        self.assertEqual(os.stat(admin_json).st_mode & 0o777, 0o600)
        self.assertRegex(self.node.admin["id"], r"^300:0\.NA/IDRA$")
        self.assertTrue(os.path.exists(self.node.cacert))
        out = "".join(self.node.stdout_lines)
        self.assertIn("trust anchor: ", out)
        self.assertIn("admin: 300:0.NA/IDRA", out)
        self.assertNotIn(self.node.admin["secret"], out)
        self.assertNotIn(self.node.admin["secret"], "".join(self.node.stderr_lines))

    def test_health(self):
        self.assertEqual(self.node.curl("GET", "/healthz").status, 200)
        r = self.node.curl("GET", "/readyz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["status"], "ready")

    # -- create, resolve, replace -----------------------------------------
    def test_create_then_resolve(self):
        h = f"{PREFIX}/create-1"
        r = self.put(h, [url_value(1, "https://example.com/a")])
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json()["responseCode"], 1)
        self.assertEqual(r.json()["handle"], h.upper().split("/")[0] + "/create-1")
        r = self.get(h)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["responseCode"], 1)
        types = {v["index"]: v["type"] for v in body["values"]}
        self.assertEqual(types[1], "URL")
        self.assertEqual(types[100], "HS_ADMIN")  # added for the creator, as Handle.Net does
        v1 = [v for v in body["values"] if v["index"] == 1][0]
        self.assertEqual(v1["data"], {"format": "string", "value": "https://example.com/a"})
        self.assertRegex(v1["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(v1["ttl"], 86400)
        # Replace: 200, and the record is exactly the new body.
        r = self.put(h, {"values": [url_value(2, "https://example.com/b")]})
        self.assertEqual(r.status, 200, r)
        body = self.get(h).json()
        self.assertEqual([v["index"] for v in body["values"]], [2])

    def test_single_value_body_and_hdl_scheme(self):
        h = f"{PREFIX}/single"
        self.assertEqual(self.put(h, url_value(1, "https://x.example")).status, 201)
        r = self.get("hdl:" + h.lower())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["handle"], f"{PREFIX}/single")

    def test_add_and_remove_values_by_index(self):
        h = f"{PREFIX}/values"
        self.put(h, [url_value(1, "https://a"), url_value(2, "https://b")])
        r = self.put(h, [url_value(3, "https://c")], query="?index=3")
        self.assertEqual(r.status, 200, r)
        idx = [v["index"] for v in self.get(h).json()["values"]]
        self.assertEqual(sorted(i for i in idx if i != 100), [1, 2, 3])
        r = self.put(h, [url_value(2, "https://b2")], query="?index=2")
        self.assertEqual(r.status, 200)
        v2 = [v for v in self.get(h).json()["values"] if v["index"] == 2][0]
        self.assertEqual(v2["data"]["value"], "https://b2")
        # Mismatched indexes: 400, nothing changes.
        r = self.put(h, [url_value(4, "https://d")], query="?index=5")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["responseCode"], 4)
        self.assertIn("Mismatched indexes", r.json()["message"])
        r = self.node.curl("DELETE", f"/api/handles/{h}?index=1&index=3", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        idx = [v["index"] for v in self.get(h).json()["values"]]
        self.assertEqual(sorted(i for i in idx if i != 100), [2])
        # Removing a value that is not there: responseCode 200 -> HTTP 400.
        r = self.node.curl("DELETE", f"/api/handles/{h}?index=77", auth=self.node.admin_auth())
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["responseCode"], 200)

    def test_overwrite_false(self):
        h = f"{PREFIX}/overwrite"
        self.assertEqual(self.put(h, [url_value(1, "https://a")], query="?overwrite=false").status, 201)
        r = self.put(h, [url_value(1, "https://b")], query="?overwrite=false")
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json()["responseCode"], 101)
        # With index=: adding is fine, replacing is refused with 201 (value exists).
        r = self.put(h, [url_value(1, "https://b")], query="?index=1&overwrite=false")
        self.assertEqual(r.status, 409)
        self.assertEqual(r.json()["responseCode"], 201)
        r = self.put(h, [url_value(2, "https://c")], query="?index=2&overwrite=false")
        self.assertEqual(r.status, 200)
        v1 = [v for v in self.get(h).json()["values"] if v["index"] == 1][0]
        self.assertEqual(v1["data"]["value"], "https://a")

    def test_mint_new_suffix(self):
        r = self.put(f"{PREFIX}/batch-", [url_value(1, "https://m")], query="?mintNewSuffix=true")
        self.assertEqual(r.status, 201, r)
        minted = r.json()["handle"]
        self.assertRegex(minted, r"^88\.100\.1/batch-[0-9a-f]{32}$")
        self.assertEqual(self.get(minted).status, 200)
        r2 = self.put(f"{PREFIX}/batch-", [url_value(1, "https://m")], query="?mintNewSuffix=true")
        self.assertNotEqual(r2.json()["handle"], minted)

    def test_delete_whole_handle(self):
        h = f"{PREFIX}/gone"
        self.put(h, [url_value(1, "https://a")])
        r = self.node.curl("DELETE", f"/api/handles/{h}", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200)
        r = self.get(h)
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json()["responseCode"], 100)
        self.assertIn("message", r.json())

    # -- resolution filters, caching ----------------------------------------
    def test_type_and_index_filters(self):
        h = f"{PREFIX}/filters"
        self.put(h, [url_value(1, "https://a"),
                     {"index": 2, "type": "URL.mirror", "data": "https://b"},
                     {"index": 3, "type": "EMAIL", "data": "ops@example.com"},
                     {"index": 4, "type": "URLX", "data": "no"}])
        got = lambda q: sorted(v["index"] for v in self.get(h, q).json()["values"])
        self.assertEqual(got("?type=URL"), [1])
        self.assertEqual(got("?type=URL."), [1, 2])
        self.assertEqual(got("?type=url."), [1, 2])  # types compare case-insensitively
        self.assertEqual(got("?index=3"), [3])
        self.assertEqual(got("?type=EMAIL&index=1"), [1, 3])  # OR
        r = self.get(h, "?type=NOPE")
        self.assertEqual(r.status, 200)  # responseCode 200 on resolution: HTTP 200, no values
        self.assertEqual(r.json()["responseCode"], 200)
        self.assertEqual(r.json()["values"], [])
        r = self.get(h, "?pretty=true")
        self.assertIn("\n  ", r.body)

    def test_cache_control_and_etag(self):
        h = f"{PREFIX}/cache"
        self.put(h, [url_value(1, "https://a", ttl=300), url_value(2, "https://b", ttl=60)])
        r = self.get(h, "?index=1&index=2")
        self.assertEqual(r.headers["cache-control"], "max-age=60")
        etag = r.headers["etag"]
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        r2 = self.get(h, "?index=1&index=2", headers=[f"If-None-Match: {etag}"])
        self.assertEqual(r2.status, 304)
        self.assertEqual(r2.body, "")
        self.put(h, [url_value(1, "https://changed", ttl=300)], query="?index=1")
        r3 = self.get(h, "?index=1&index=2", headers=[f"If-None-Match: {etag}"])
        self.assertEqual(r3.status, 200)

    def test_head(self):
        h = f"{PREFIX}/head"
        self.put(h, [url_value(1, "https://a")])
        r = self.node.curl("HEAD", f"/api/handles/{h}")
        self.assertEqual(r.status, 200)
        self.assertGreater(int(r.headers["content-length"]), 10)
        self.assertEqual(r.body.strip(), "")

    def test_batch_resolve(self):
        self.put(f"{PREFIX}/b1", [url_value(1, "https://1")])
        self.put(f"{PREFIX}/b2", [url_value(1, "https://2")])
        r = self.node.curl("POST", "/api/resolve",
                           body={"handles": [f"{PREFIX}/b1", f"{PREFIX}/missing", "not a handle", f"{PREFIX}/b2"]})
        self.assertEqual(r.status, 200, r)
        codes = [x["responseCode"] for x in r.json()["results"]]
        self.assertEqual(codes, [1, 100, 102, 1])
        r = self.node.curl("POST", "/api/resolve", body={"handles": ["x/y"] * 1001})
        self.assertEqual(r.status, 400)

    def test_list_with_paging(self):
        for i in range(7):
            self.put(f"{PREFIX}/list-{i}", [url_value(1, f"https://l/{i}")])
        r = self.node.curl("GET", f"/api/handles?prefix={PREFIX}&page=0&pageSize=3", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(len(body["handles"]), 3)
        total = body["totalCount"]
        self.assertGreaterEqual(total, 7)
        seen = []
        page = 0
        while True:
            b = self.node.curl("GET", f"/api/handles?prefix={PREFIX}&page={page}&pageSize=3",
                               auth=self.node.admin_auth()).json()
            if not b["handles"]:
                break
            seen += b["handles"]
            page += 1
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)
        # Listing needs authentication.
        r = self.node.curl("GET", f"/api/handles?prefix={PREFIX}")
        self.assertEqual(r.status, 401)
        self.assertIn("www-authenticate", r.headers)

    # -- permissions and authentication --------------------------------------
    def test_public_and_admin_read(self):
        h = f"{PREFIX}/private"
        self.put(h, [url_value(1, "https://public"),
                     url_value(2, "https://secret", permissions="1100")])
        anon = [v["index"] for v in self.get(h).json()["values"]]
        self.assertIn(1, anon)
        self.assertNotIn(2, anon)
        r = self.get(h, "?publicOnly=false")
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("www-authenticate"), 'Basic realm="handle"')
        admin = [v["index"] for v in self.get(h, auth=self.node.admin_auth()).json()["values"]]
        self.assertIn(2, admin)

    def test_secret_key_is_hashed_and_user_can_authenticate(self):
        user = f"{PREFIX}/user-1"
        r = self.put(user, [{"index": 300, "type": "HS_SECKEY", "data": "s3cret-pass", "permissions": "1100"},
                            url_value(1, "https://user")])
        self.assertEqual(r.status, 201, r)
        values = self.get(user, auth=self.node.admin_auth()).json()["values"]
        seckey = [v for v in values if v["type"] == "HS_SECKEY"][0]
        self.assertTrue(seckey["data"]["value"].startswith("$argon2id$"), seckey)
        self.assertNotIn("s3cret-pass", json.dumps(values))
        # The user may read (public values) but not write someone else's record.
        target = f"{PREFIX}/not-mine"
        self.put(target, [url_value(1, "https://x")])
        r = self.put(target, [url_value(1, "https://hijack")], auth=(f"300:{user}", "s3cret-pass"))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["responseCode"], 401)
        # ... but may edit a record whose HS_ADMIN names it.
        own = f"{PREFIX}/mine"
        self.put(own, [url_value(1, "https://x"),
                       {"index": 100, "type": "HS_ADMIN",
                        "data": {"format": "admin", "value": {"handle": user, "index": 300,
                                                              "permissions": "011111110011"}}}])
        r = self.put(own, [url_value(1, "https://edited")], query="?index=1", auth=(f"300:{user}", "s3cret-pass"))
        self.assertEqual(r.status, 200, r)

    def test_auth_failures(self):
        h = f"{PREFIX}/authfail"
        r = self.put(h, [url_value(1, "https://a")], auth=None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.json()["responseCode"], 402)
        self.assertEqual(r.headers["www-authenticate"], 'Basic realm="handle"')
        r = self.put(h, [url_value(1, "https://a")], auth=(self.node.admin["id"], "wrong"))
        self.assertEqual(r.status, 403)
        self.assertEqual(r.json()["responseCode"], 403)
        r = self.put(h, [url_value(1, "https://a")], auth=None, headers=["Authorization: Handle sessionId=abc"])
        self.assertEqual(r.status, 501)
        self.assertEqual(r.json()["responseCode"], 5)
        self.assertEqual(self.get(h).status, 404)

    # -- bad input ----------------------------------------------------------
    def test_content_type_must_be_json(self):
        r = self.put(f"{PREFIX}/ct", "[]", content_type="text/plain")
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["responseCode"], 4)

    def test_malformed_json_keeps_old_record(self):
        h = f"{PREFIX}/keep"
        self.put(h, [url_value(1, "https://original")])
        before = self.get(h).body
        for bad in ['[{"index": 1, "type": "URL", "data": ', '{"values": 5}',
                    '[{"index": 0, "type": "URL", "data": "x"}]',
                    '[{"index": 1, "type": "URL", "data": {"format": "base64", "value": "!!!"}}]']:
            r = self.put(h, bad)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertIn("message", r.json())
            self.assertEqual(self.get(h).body, before)

    def test_invalid_typed_values(self):
        h = f"{PREFIX}/typed"
        for bad in [[{"index": 100, "type": "HS_ADMIN", "data": {"format": "base64", "value": "AAE="}}],
                    [{"index": 100, "type": "HS_ADMIN", "data": {"format": "admin", "value": {
                        "handle": "no-slash", "index": 300, "permissions": "011111110011"}}}],
                    [{"index": 300, "type": "HS_SECKEY", "data": ""}],
                    [{"index": 5, "type": "HS_VLIST", "data": {"format": "hex", "value": "00000002"}}]]:
            r = self.put(h, bad)
            self.assertEqual(r.status, 400, (bad, r))
            self.assertEqual(r.json()["responseCode"], 202, r)
            self.assertIn("Invalid value at index", r.json()["message"])
        self.assertEqual(self.get(h).status, 404)

    def test_oversized_body(self):
        big = [url_value(1, "https://" + "a" * 70000)]
        r = self.put(f"{PREFIX}/big", big)
        self.assertEqual(r.status, 413, r)
        self.assertIn("message", r.json())
        self.assertEqual(self.get(f"{PREFIX}/big").status, 404)

    def test_oversized_header(self):
        r = self.get(f"{PREFIX}/x", headers=["X-Big: " + "b" * 20000])
        self.assertEqual(r.status, 431)

    def test_invalid_identifiers(self):
        cases = {
            "https://id.example.com/01/09506000134353": "check digit",   # GTIN, wrong check digit
            "urn:oid:1.2.0840": "leading zero",                           # OID arc with a leading zero
            f"{PREFIX}/" + "x" * 2100: "2048",                            # handle over 2048 bytes
        }
        for ident, _ in cases.items():
            from urllib.parse import quote
            r = self.get(quote(ident, safe="/:"))
            self.assertEqual(r.status, 400, (ident, r))
            self.assertEqual(r.json()["responseCode"], 102)
            self.assertTrue(r.json()["message"])

    def test_unhomed_prefix(self):
        r = self.put("99.999/x", [url_value(1, "https://a")])
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json()["responseCode"], 301)
        self.assertEqual(r.json()["message"], "That prefix doesn't live here")

    def test_prefix_homing(self):
        r = self.node.curl("PUT", "/api/prefixes/77.7", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.put("77.7/a", [url_value(1, "https://a")]).status, 201)
        # A derived prefix lives under its homed parent; a sibling does not.
        self.assertEqual(self.put("77.7.1/a", [url_value(1, "https://a")]).status, 201)
        self.assertEqual(self.put("77.77/a", [url_value(1, "https://a")]).status, 400)
        r = self.node.curl("PUT", "/api/prefixes/77.8")
        self.assertEqual(r.status, 401)
        r = self.node.curl("DELETE", "/api/prefixes/77.7", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200)
        self.assertEqual(self.get("77.7/a").json()["responseCode"], 301)
        r = self.node.curl("DELETE", "/api/prefixes/77.7", auth=self.node.admin_auth())
        self.assertEqual(r.status, 404)

    def test_foreign_identifiers_share_one_record(self):
        dl = "https://id.example.com/01/09506000134352/21/A1"
        from urllib.parse import quote
        r = self.put(quote(dl, safe=""), [url_value(1, "https://product.example/A1")])
        self.assertEqual(r.status, 201, r)
        handle = r.json()["handle"]
        self.assertTrue(handle.startswith("IDRA/gs1/01/09506000134352/21/A1"), handle)
        for spelling in ["https://other.example/gtin/09506000134352/ser/A1",
                         "urn:epc:id:sgtin:950600.0013435.A1"]:
            r = self.get(quote(spelling, safe=""))
            self.assertEqual(r.status, 200, (spelling, r))
            self.assertEqual(r.json()["handle"], handle)

    def test_unknown_path_and_method(self):
        r = self.node.curl("GET", "/nope")
        self.assertEqual(r.status, 404)
        self.assertIn("message", r.json())
        r = self.node.curl("POST", f"/api/handles/{PREFIX}/x", body=[])
        self.assertEqual(r.status, 405)
        self.assertIn("allow", r.headers)

    def test_access_log_line(self):
        self.get(f"{PREFIX}/logged")
        time.sleep(0.4)
        lines = [l for l in self.node.stderr_lines if '"path":"/api/handles/88.100.1/logged"' in l]
        self.assertTrue(lines, self.node.stderr_lines[-5:])
        entry = json.loads(lines[-1])
        for key in ["time", "method", "path", "status", "bytes", "us", "client", "principal"]:
            self.assertIn(key, entry)
        self.assertEqual(entry["status"], 404)
        self.assertEqual(entry["client"], "127.0.0.1")


class ConnectionLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = Node({"limits": {"header_timeout_ms": 700, "idle_timeout_ms": 1500, "max_connections": 3},
                         "auth": {"max_failures": 3, "failure_window_seconds": 2}}).start()

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()

    def test_slow_client_is_cut_off(self):
        s = tls_connect(self.node)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the header
        start = time.time()
        s.settimeout(10)
        try:
            data = s.recv(100)
        except (ConnectionResetError, OSError):
            data = b""
        self.assertEqual(data, b"")
        self.assertLess(time.time() - start, 5)
        s.close()

    def test_max_connections(self):
        held = [tls_connect(self.node) for _ in range(3)]
        try:
            extra = None
            try:
                extra = tls_connect(self.node)
                extra.settimeout(3)
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                data = extra.recv(100)
            except (ConnectionResetError, OSError, Exception):
                data = b""
            self.assertEqual(data, b"")
        finally:
            for s in held:
                s.close()
            if extra:
                extra.close()
        time.sleep(0.3)
        self.assertEqual(self.node.curl("GET", "/healthz").status, 200)

    def test_failed_auth_is_rate_limited(self):
        for _ in range(3):
            r = self.node.curl("GET", "/api/handles/IDRA/oid/1.2.3", auth=(self.node.admin["id"], "bad"))
            self.assertEqual(r.status, 403)
        r = self.node.curl("GET", "/api/handles/IDRA/oid/1.2.3", auth=self.node.admin_auth())
        self.assertEqual(r.status, 429)
        self.assertIn("retry-after", r.headers)
        time.sleep(2.2)
        r = self.node.curl("GET", "/api/handles/IDRA/oid/1.2.3", auth=self.node.admin_auth())
        self.assertEqual(r.status, 404, r)


class RestartTest(unittest.TestCase):
    def test_restart_keeps_every_record_and_shuts_down_gracefully(self):
        node = Node().start()
        try:
            admin = node.admin_auth()
            node.curl("PUT", f"/api/prefixes/{PREFIX}", auth=admin)
            for i in range(25):
                r = node.curl("PUT", f"/api/handles/{PREFIX}/r{i}", body=[url_value(1, f"https://r/{i}")], auth=admin)
                self.assertEqual(r.status, 201)
            before = {i: node.curl("GET", f"/api/handles/{PREFIX}/r{i}").body for i in range(25)}
            first_admin = dict(node.admin)
            self.assertEqual(node.stop(), 0)
            self.assertIn("idra stopped\n", node.stdout_lines)
            node.proc = None
            node.start()
            self.assertEqual(node.admin, first_admin)  # bootstrap reused, not redone
            for i in range(25):
                self.assertEqual(node.curl("GET", f"/api/handles/{PREFIX}/r{i}").body, before[i])
            self.assertEqual(node.curl("GET", "/healthz").status, 200)
        finally:
            node.cleanup()


class StatusRowsTest(unittest.TestCase):
    """The rows of the status mapping that need a node in a particular state."""

    def test_read_only_node_refuses_changes_with_7(self):
        node = Node().start()
        try:
            node.curl("PUT", "/api/prefixes/88.100.1", auth=node.admin_auth())
            node.curl("PUT", "/api/handles/88.100.1/ro", body=[url_value(1, "https://ro")], auth=node.admin_auth())
            node.stop()
            node.proc = None
            node.config = {"read_only": True}
            node.start()
            r = node.curl("PUT", "/api/handles/88.100.1/ro", body=[url_value(1, "https://x")], auth=node.admin_auth())
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json()["responseCode"], 7)
            r = node.curl("DELETE", "/api/handles/88.100.1/ro", auth=node.admin_auth())
            self.assertEqual(r.status, 503)
            self.assertEqual(node.curl("GET", "/api/handles/88.100.1/ro").status, 200)
            r = node.curl("POST", "/api/resolve", body={"handles": ["88.100.1/ro"]})
            self.assertEqual(r.json()["results"][0]["responseCode"], 1)
        finally:
            node.cleanup()

    def test_backpressure_answers_3(self):
        # One blocking thread and room for one waiting request: concurrent
        # first-time Argon2id checks (wrong secrets, so never cached) overflow it.
        node = Node({"blocking_threads": 1, "limits": {"max_pending_blocking": 1},
                     "auth": {"max_failures": 100000}}).start()
        try:
            import concurrent.futures
            def attempt(_):
                return node.curl("GET", "/api/handles/IDRA/oid/1.2.3", auth=(node.admin["id"], "wrong"))
            with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
                replies = list(pool.map(attempt, range(48)))
            busy = [r for r in replies if r.status == 503]
            self.assertTrue(busy, sorted({r.status for r in replies}))
            self.assertEqual(busy[0].json()["responseCode"], 3)
            self.assertEqual(busy[0].headers["retry-after"], "1")
            self.assertTrue(all(r.status in (403, 503) for r in replies))
            self.assertEqual(node.curl("GET", "/healthz").status, 200)
        finally:
            node.cleanup()

    def test_corrupt_record_is_a_500_not_a_crash(self):
        node = Node({"store": {"prefault_max_bytes": 0}}).start()
        try:
            node.curl("PUT", "/api/prefixes/88.100.1", auth=node.admin_auth())
            marker = "https://corrupt-marker-5f1d2c"
            r = node.curl("PUT", "/api/handles/88.100.1/bad", body=[url_value(1, marker)], auth=node.admin_auth())
            self.assertEqual(r.status, 201)
            node.stop()
            node.proc = None
            # Break the record's framing on disk: the data length before the marker.
            path = os.path.join(node.data_dir, "db", "data.mdb")
            with open(path, "r+b") as f:
                data = bytearray(f.read())
                at = data.find(marker.encode())
                self.assertGreater(at, 4)
                while at != -1:
                    data[at - 4:at] = b"\xff\xff\xff\xff"
                    at = data.find(marker.encode(), at + 1)
                f.seek(0)
                f.write(data)
            node.start()
            r = node.curl("GET", "/api/handles/88.100.1/bad")
            self.assertEqual(r.status, 500, r)
            self.assertEqual(r.json()["message"], "internal error")
            self.assertEqual(node.curl("GET", "/healthz").status, 200)  # still serving
        finally:
            node.cleanup()


class GracefulShutdownTest(unittest.TestCase):
    def test_in_flight_request_finishes_after_sigterm(self):
        node = Node().start()
        try:
            s = tls_connect(node, timeout=10)
            body = json.dumps([url_value(1, "https://late")]).encode()
            user = node.admin["id"].replace(":", "%3A").replace("/", "%2F") + ":" + node.admin["secret"]
            import base64
            auth = base64.b64encode(user.encode()).decode()
            node.curl("PUT", "/api/prefixes/88.100.1", auth=node.admin_auth())
            head = (f"PUT /api/handles/88.100.1/late HTTP/1.1\r\nHost: x\r\nAuthorization: Basic {auth}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            s.sendall(head + body[:10])   # the request is in flight: header read, body not complete
            time.sleep(0.3)
            node.proc.send_signal(__import__("signal").SIGTERM)
            time.sleep(0.3)
            self.assertIsNone(node.proc.poll())  # still draining
            s.sendall(body[10:])
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
            self.assertTrue(reply.startswith(b"HTTP/1.1 201"), reply[:200])
            self.assertIn(b"Connection: close", reply)
            s.close()
            node.proc.wait(timeout=15)
            self.assertEqual(node.proc.returncode, 0)
            # The write that finished during shutdown is durable.
            node.stop()
            node.proc = None
            node.start()
            self.assertEqual(node.curl("GET", "/api/handles/88.100.1/late").status, 200)
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()
