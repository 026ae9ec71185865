"""The Cedar policy engine in the path of every request, over real HTTPS:
partners see only the values their grant allows, devices update only their
own record, auditors resolve nothing, and policy reloads (file watch, SIGHUP,
POST /api/policy/reload) are atomic: a bad set is refused whole, and a reload
under concurrent load loses no request and mixes no sets.
"""
import base64
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

from idra_harness import CURL, IDRA_BIN, Node, parse_http

REPO_POLICIES = os.path.join(os.path.dirname(__file__), "..", "..", "policies")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(args, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p.stdout


def copy_policies(dst):
    """The shipped policy set, without its tests, into |dst|."""
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(REPO_POLICIES):
        src = os.path.join(REPO_POLICIES, name)
        if os.path.isfile(src):
            shutil.copy(src, os.path.join(dst, name))


def write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def value(index, type_, text, public=True):
    return {"index": index, "type": type_, "data": {"format": "string", "value": text},
            "permissions": "11" + ("1" if public else "0") + "0"}  # adminRead adminWrite publicRead publicWrite


class PolicyNode(unittest.TestCase):
    """One node whose policy directory the tests edit."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="idra-policy-")
        cls.policies = os.path.join(cls.tmp, "policies")
        copy_policies(cls.policies)
        # Organization acme is a partner granted prefix 88.100 and URL values.
        write(os.path.join(cls.policies, "entities.json"), json.dumps([
            {"uid": {"type": "Org", "id": "acme"}, "attrs": {"grantedTypes": ["URL"]},
             "parents": [{"type": "Role", "id": "partner"}]}]))
        write(os.path.join(cls.policies, "links.json"), json.dumps([
            {"template": "partner-grant", "id": "acme-88.100",
             "slots": {"?principal": 'Org::"acme"', "?resource": 'Prefix::"88.100"'}}]))
        cls.node = Node(config={"policy": {"directory": cls.policies, "watch_interval_ms": 200}}).start()
        cls.admin = cls.node.admin_auth()
        for prefix in ("88.100", "88.200"):
            r = cls.node.curl("PUT", "/api/prefixes/" + prefix, auth=cls.admin)
            assert r.status == 200, r
        cls.intermediate = os.path.join(cls.node.data_dir, "tls", "intermediate.pem")

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers -------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.tmp, name)

    def key_and_csr(self, name):
        key, csr = self.path(name + ".key"), self.path(name + ".csr")
        check(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-subj", "/CN=" + name, "-out", csr])
        return key, csr

    def issue(self, name, profile, org=None, identifier=None):
        key, csr = self.key_and_csr(name)
        out = self.path(name + ".pem")
        args = [IDRA_BIN, "ca", "issue", "--csr", csr, "--profile", profile, "--cn", name, "--out", out,
                "--data", self.node.data_dir, "--server", self.node.base]
        if org:
            args += ["--org", org]
        if identifier:
            args += ["--identifier", identifier]
        check(args)
        return out, key

    def enroll_device(self, identifier):
        p = run([IDRA_BIN, "ca", "token", "create", identifier, "--profile", "device", "--ttl", "1h",
                 "--data", self.node.data_dir, "--server", self.node.base])
        self.assertEqual(p.returncode, 0, p.stderr)
        token = p.stdout.strip()
        name = identifier.replace("/", "_")
        key = self.path(name + ".key")
        der = self.path(name + ".der")
        check(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-subj", "/CN=device", "-outform", "DER", "-out", der])
        p = subprocess.run([CURL, "-sS", "--http1.1", "--cacert", self.node.cacert, "-D", "-", "-o", "-",
                            "-u", identifier + ":" + token, "-H", "Content-Type: application/pkcs10",
                            "--data-binary", "@-", self.node.base + "/.well-known/est/simpleenroll"],
                           input=base64.encodebytes(open(der, "rb").read()), capture_output=True, timeout=60)
        r = parse_http(p.stdout)
        self.assertEqual(r.status, 200, r)
        p7 = self.path(name + ".p7")
        with open(p7, "wb") as f:
            f.write(base64.b64decode(r.body))
        cert = self.path(name + ".pem")
        with open(cert, "w") as f:
            f.write(check(["openssl", "pkcs7", "-inform", "DER", "-in", p7, "-print_certs"]))
        return cert, key

    def as_cert(self, cert_key):
        return ["--cert", cert_key[0], "--key", cert_key[1]]

    def put(self, handle, values):
        r = self.node.curl("PUT", "/api/handles/" + handle, body={"values": values}, auth=self.admin)
        self.assertIn(r.status, (200, 201), r)

    def active_sha(self):
        r = self.node.curl("GET", "/api/policy", auth=self.admin)
        self.assertEqual(r.status, 200, r)
        return r.json()["sha256"]

    def wait_for_sha(self, sha, different=False, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            now = self.active_sha()
            if (now != sha) if different else (now == sha):
                return now
            time.sleep(0.1)
        self.fail("the policy set did not %s %s" % ("leave" if different else "become", sha))

    def check_sha(self, directory):
        out = check([IDRA_BIN, "policy", "check", directory])
        return out.split("sha256 ")[1].strip()

    # -- tests -----------------------------------------------------------------
    def test_active_set_is_shown_to_administrators_only(self):
        r = self.node.curl("GET", "/api/policy", auth=self.admin)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["sha256"], self.check_sha(self.policies))
        self.assertIn("node-admin", body["policies"])
        self.assertIn("acme-88.100", body["policies"])
        self.assertEqual(body["templates"], ["partner-grant"])
        self.assertTrue(body["schema"])
        r = self.node.curl("GET", "/api/policy")
        self.assertEqual(r.status, 401, r)
        self.assertIn("message", r.json())
        # The active set's hash is logged at start.
        self.assertTrue(any('"msg":"policy set active"' in l and body["sha256"] in l for l in self.node.stderr_lines))

    def test_partner_sees_only_granted_values(self):
        self.put("88.100/P1", [value(1, "URL", "https://acme.example/p1"), value(2, "EMAIL", "ops@example.com"),
                               value(3, "URL", "https://acme.example/internal", public=False),
                               value(4, "DESC", "secret description", public=False)])
        self.put("88.200/P2", [value(1, "URL", "https://example.com/p2")])
        acme = self.issue("partner-acme", "partner", org="acme")
        globex = self.issue("partner-globex", "partner", org="globex")

        r = self.node.curl("GET", "/api/handles/88.100/P1", raw_args=self.as_cert(acme))
        self.assertEqual(r.status, 200, r)
        got = r.json()
        self.assertEqual(sorted(v["index"] for v in got["values"]), [1, 3], "exactly the URL values, public or not")
        self.assertEqual(got["responseCode"], 1)
        self.assertNotIn("secret description", r.body)
        self.assertNotIn("EMAIL", r.body, "nothing betrays the other values")
        # Under a prefix it was not granted, the partner resolves nothing.
        r = self.node.curl("GET", "/api/handles/88.200/P2", raw_args=self.as_cert(acme))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["responseCode"], 401)
        self.assertNotIn("partner", r.json()["message"], "the determining policies are not sent to the client")
        # Another partner organization has no grant at all.
        r = self.node.curl("GET", "/api/handles/88.100/P1", raw_args=self.as_cert(globex))
        self.assertEqual(r.status, 403, r)
        # The denial and its policies go to the log.
        time.sleep(0.3)
        denials = [json.loads(l) for l in self.node.stderr_lines
                   if l.startswith("{") and '"decision":"deny"' in l and "88.100/P1" in l]
        self.assertTrue(denials, "a denial is logged")
        self.assertEqual(denials[-1]["action"], "resolve")
        # Anonymous callers see the public values (the partner rules do not
        # apply to them), the creator's HS_ADMIN at 100 among them.
        r = self.node.curl("GET", "/api/handles/88.100/P1")
        self.assertEqual(sorted(v["index"] for v in r.json()["values"]), [1, 2, 100])

    def test_device_updates_only_its_own_record(self):
        d1 = self.enroll_device("88.100/D1")
        self.enroll_device("88.100/D2")
        before = self.node.curl("GET", "/api/handles/88.100/D2", auth=self.admin).body
        r = self.node.curl("PUT", "/api/handles/88.100/D1?index=50&overwrite=true",
                           body={"values": [value(50, "URL", "https://d1.example/status")]}, raw_args=self.as_cert(d1))
        self.assertEqual(r.status, 200, r)
        r = self.node.curl("PUT", "/api/handles/88.100/D2?index=50&overwrite=true",
                           body={"values": [value(50, "URL", "https://evil.example/")]}, raw_args=self.as_cert(d1))
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.node.curl("GET", "/api/handles/88.100/D2", auth=self.admin).body, before,
                         "nothing written to the other record")
        # Nor may it rewrite the values the CA keeps on its own record.
        rec = self.node.curl("GET", "/api/handles/88.100/D1", auth=self.admin).json()
        status = [v for v in rec["values"] if v["type"] == "IDRA_CERT_STATUS"]
        self.assertTrue(status, rec)
        idx = status[0]["index"]
        r = self.node.curl("PUT", "/api/handles/88.100/D1?index=%d&overwrite=true" % idx,
                           body={"values": [value(idx, "IDRA_CERT_STATUS", "valid-forever")]}, raw_args=self.as_cert(d1))
        self.assertEqual(r.status, 403, r)
        r = self.node.curl("DELETE", "/api/handles/88.100/D1", raw_args=self.as_cert(d1))
        self.assertEqual(r.status, 403, r)

    def test_auditor_resolves_nothing(self):
        self.put("88.100/A1", [value(1, "URL", "https://example.com/a1")])
        auditor = self.issue("auditor-1", "auditor", org="audit-co")
        r = self.node.curl("GET", "/api/handles/88.100/A1", raw_args=self.as_cert(auditor))
        self.assertEqual(r.status, 403, r)
        r = self.node.curl("POST", "/api/resolve", body={"handles": ["88.100/A1"]}, raw_args=self.as_cert(auditor))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["results"][0]["responseCode"], 401)
        r = self.node.curl("GET", "/api/policy", raw_args=self.as_cert(auditor))
        self.assertEqual(r.status, 403, r)

    def test_file_change_reloads_and_bad_set_is_refused(self):
        self.put("88.100/W1", [value(1, "URL", "https://example.com/w1")])
        self.assertEqual(self.node.curl("GET", "/api/handles/88.100/W1").status, 200)
        sha0 = self.active_sha()
        extra = os.path.join(self.policies, "zz-watch.cedar")
        try:
            write(extra, '@id("hide-w1")\nforbid (principal, action == Action::"resolve", resource == Identifier::"88.100/W1");\n')
            sha1 = self.wait_for_sha(sha0, different=True)
            self.assertEqual(sha1, self.check_sha(self.policies))
            r = self.node.curl("GET", "/api/handles/88.100/W1")
            self.assertEqual(r.status, 401, r)
            # A set that does not validate (unknown attribute) is refused whole.
            write(extra, '@id("broken")\npermit (principal, action == Action::"readValue", resource) when { resource.nosuch };\n')
            deadline = time.time() + 10
            while time.time() < deadline and not any("policy reload refused" in l for l in self.node.stderr_lines):
                time.sleep(0.1)
            refused = [l for l in self.node.stderr_lines if "policy reload refused" in l]
            self.assertTrue(refused, "the refusal is logged")
            self.assertIn("zz-watch.cedar:2:", refused[-1], "with file:line")
            self.assertIn("nosuch", refused[-1])
            self.assertEqual(self.active_sha(), sha1, "the previous set stays active")
            self.assertEqual(self.node.curl("GET", "/api/handles/88.100/W1").status, 401)
            r = self.node.curl("POST", "/api/policy/reload", auth=self.admin)
            self.assertEqual(r.status, 422, r)
            self.assertIn("zz-watch.cedar:2:", json.dumps(r.json()["errors"]))
        finally:
            os.remove(extra)
        self.wait_for_sha(sha0)
        self.assertEqual(self.node.curl("GET", "/api/handles/88.100/W1").status, 200)

    def test_reload_under_load_loses_no_request_and_mixes_no_sets(self):
        # Set A shows every value of 88.100/L1, set B none: a response that
        # mixed the two sets would show some of its values.
        self.put("88.100/L1", [value(i, "URL", "https://example.com/l1/%d" % i) for i in range(1, 21)])
        # 20 values and the HS_ADMIN naming the administrator who created it.
        total = len(self.node.curl("GET", "/api/handles/88.100/L1", auth=self.admin).json()["values"])
        self.assertEqual(total, 21)
        flip = os.path.join(self.policies, "zz-flip.cedar")
        hide = '@id("hide-l1")\nforbid (principal, action == Action::"readValue", resource in Identifier::"88.100/L1");\n'
        show = '@id("show-l1")\npermit (principal, action == Action::"readValue", resource in Identifier::"88.100/L1");\n'
        write(flip, show)
        r = self.node.curl("POST", "/api/policy/reload", auth=self.admin)
        self.assertEqual(r.status, 200, r)

        ctx = ssl.create_default_context(cafile=self.node.cacert)
        stop = threading.Event()
        results = {"all": 0, "none": 0, "mixed": 0, "failed": 0}
        lock = threading.Lock()

        def client():
            conn = http.client.HTTPSConnection("127.0.0.1", self.node.port, context=ctx, timeout=30)
            n = 0
            while not stop.is_set() or n < 20:
                n += 1
                try:
                    conn.request("GET", "/api/handles/88.100/L1")
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200:
                        kind = "failed"
                    else:
                        count = len(json.loads(body)["values"])
                        kind = "all" if count == total else "none" if count == 0 else "mixed"
                except Exception:  # noqa: BLE001 - any failure counts as a lost request
                    kind = "failed"
                    conn.close()
                    conn = http.client.HTTPSConnection("127.0.0.1", self.node.port, context=ctx, timeout=30)
                with lock:
                    results[kind] += 1
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        flips = 0
        try:
            for i in range(30):
                write(flip, hide if i % 2 == 0 else show)
                r = self.node.curl("POST", "/api/policy/reload", auth=self.admin)
                self.assertEqual(r.status, 200, r)
                flips += 1
                time.sleep(0.03)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
            os.remove(flip)
            self.node.curl("POST", "/api/policy/reload", auth=self.admin)
        self.assertEqual(results["failed"], 0, results)
        self.assertEqual(results["mixed"], 0, results)
        self.assertGreater(results["all"], 0, results)
        self.assertGreater(results["none"], 0, results)
        self.assertEqual(flips, 30)


class SighupReload(unittest.TestCase):
    def test_sighup_reloads_without_file_watch(self):
        tmp = tempfile.mkdtemp(prefix="idra-policy-hup-")
        policies = os.path.join(tmp, "policies")
        copy_policies(policies)
        node = Node(config={"policy": {"directory": policies, "watch_interval_ms": 0}}).start()
        try:
            admin = node.admin_auth()
            self.assertEqual(node.curl("PUT", "/api/prefixes/88.100", auth=admin).status, 200)
            r = node.curl("PUT", "/api/handles/88.100/H1", auth=admin,
                          body={"values": [value(1, "URL", "https://example.com/h1")]})
            self.assertEqual(r.status, 201, r)
            write(os.path.join(policies, "zz-hup.cedar"),
                  'forbid (principal, action == Action::"resolve", resource == Identifier::"88.100/H1");\n')
            time.sleep(0.5)
            self.assertEqual(node.curl("GET", "/api/handles/88.100/H1").status, 200, "no watch: not yet")
            node.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while time.time() < deadline and node.curl("GET", "/api/handles/88.100/H1").status == 200:
                time.sleep(0.1)
            self.assertEqual(node.curl("GET", "/api/handles/88.100/H1").status, 401)
            self.assertTrue(any('"msg":"policy set reloaded"' in l for l in node.stderr_lines))
            self.assertIsNone(node.proc.poll(), "SIGHUP does not stop the node")
        finally:
            node.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_node_refuses_to_start_on_an_invalid_set(self):
        tmp = tempfile.mkdtemp(prefix="idra-policy-bad-")
        policies = os.path.join(tmp, "policies")
        copy_policies(policies)
        write(os.path.join(policies, "bad.cedar"), "permit (principal, action, resource) when { 1 + };\n")
        node = Node(config={"policy": {"directory": policies}})
        try:
            with self.assertRaises(RuntimeError):
                node.start(timeout=20)
            # The node exits with the errors on stderr (read whole once it has).
            node.proc.wait(timeout=20)
            self.assertNotEqual(node.proc.returncode, 0)
            for t in node.drains:
                t.join(timeout=5)
            self.assertIn("bad.cedar:1:", "".join(node.stderr_lines))
        finally:
            node.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)

    def test_default_policies_are_written_on_first_start(self):
        node = Node().start()
        try:
            d = os.path.join(node.data_dir, "policies")
            self.assertTrue(os.path.exists(os.path.join(d, "handle.cedar")))
            self.assertTrue(os.path.exists(os.path.join(d, "idra.cedarschema")))
            r = node.curl("GET", "/api/policy", auth=node.admin_auth())
            self.assertEqual(r.json()["sha256"], check([IDRA_BIN, "policy", "check", d]).split("sha256 ")[1].strip())
        finally:
            node.cleanup()


class PolicyCli(unittest.TestCase):
    def test_check_reports_file_line_column(self):
        tmp = tempfile.mkdtemp(prefix="idra-policy-cli-")
        try:
            copy_policies(tmp)
            with open(os.path.join(tmp, "zz.cedar"), "w") as f:
                f.write('permit (principal, action == Action::"resolve", resource)\nwhen { resource.nosuch };\n')
            p = run([IDRA_BIN, "policy", "check", tmp])
            self.assertEqual(p.returncode, 1)
            self.assertRegex(p.stderr, r"zz\.cedar:2:\d+: .*nosuch")
            p = run([IDRA_BIN, "policy", "check", REPO_POLICIES])
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_shipped_policy_tests_pass(self):
        p = run([IDRA_BIN, "policy", "test", REPO_POLICIES])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"idra policy test: \d+ passed, 0 failed")

    def test_explain_offline_json(self):
        tmp = tempfile.mkdtemp(prefix="idra-policy-explain-")
        try:
            pol = os.path.join(tmp, "p.cedar")
            with open(pol, "w") as f:
                f.write('@id("a")\npermit (principal in Group::"ops", action == Action::"view", resource);\n'
                        '@id("b")\nforbid (principal, action, resource) when { context.n + 9223372036854775807 > 0 };\n')
            ents = os.path.join(tmp, "e.json")
            with open(ents, "w") as f:
                json.dump([{"uid": {"type": "User", "id": "alice"}, "attrs": {},
                            "parents": [{"type": "Group", "id": "ops"}]}], f)
            args = [IDRA_BIN, "policy", "explain", "--policies", pol, "--entities", ents, "--principal",
                    'User::"alice"', "--action", 'Action::"view"', "--resource", 'Doc::"d"', "--json"]
            p = run(args + ["--context", '{"n": 1}'])
            self.assertEqual(p.returncode, 0, p.stderr)
            out = json.loads(p.stdout)
            self.assertEqual(out["decision"], "allow")
            self.assertEqual(out["determining"], ["a"])
            self.assertEqual([e["policy"] for e in out["errors"]], ["b"], "overflow: the forbid errored and was skipped")
            p = run(args + ["--context", '{"n": -1}'])
            self.assertEqual(p.returncode, 3)
            self.assertEqual(json.loads(p.stdout), {"decision": "deny", "determining": ["b"], "errors": []})
            p = run(args[:-1] + ["--context", "{"])
            self.assertEqual(p.returncode, 2)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
