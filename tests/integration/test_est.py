"""EST enrollment, mTLS identities, revocation, CRL and OCSP, driven over
real HTTPS with third-party clients: curl, the openssl command line and
GnuTLS's certtool.

Every negative case checks its 4xx AND that nothing was written (the
certificate count and the identifier record are unchanged).
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from idra_harness import CURL, IDRA_BIN, Node, parse_http

DEVICE = "88.100.1/DEV-42"


def cn(identifier):
    """An openssl -subj naming |identifier| as the common name ('/' escaped)."""
    return "/CN=" + identifier.replace("/", "\\/")


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(args, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p.stdout


class Est(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="idra-est-")
        cls.node = Node().start()
        r = cls.node.curl("PUT", "/api/prefixes/88.100.1", auth=cls.node.admin_auth())
        assert r.status in (200, 201), r
        # The issuing CA certificate, for openssl's -untrusted.
        pem = open(os.path.join(cls.node.data_dir, "tls", "intermediate.pem")).read()
        cls.intermediate = cls.path("intermediate.pem")
        with open(cls.intermediate, "w") as f:
            f.write(pem)

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers -----------------------------------------------------------
    @classmethod
    def path(cls, name):
        return os.path.join(cls.tmp, name)

    def key_and_csr(self, name, subject, key_args=None):
        key, csr = self.path(name + ".key"), self.path(name + ".csr.der")
        key_args = key_args or ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        check(["openssl", "req", "-new", *key_args, "-nodes", "-keyout", key, "-subj", subject,
               "-outform", "DER", "-out", csr])
        return key, open(csr, "rb").read()

    def token(self, identifier, profile="device", ttl="1h"):
        p = run([IDRA_BIN, "ca", "token", "create", identifier, "--profile", profile, "--ttl", ttl,
                 "--data", self.node.data_dir, "--server", self.node.base])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 1, "the token alone on stdout")
        return lines[0]

    def est(self, op, csr_der=None, user=None, cert=None, key=None, body=None, label=None,
            content_type="application/pkcs10"):
        path = "/.well-known/est/" + (label + "/" if label else "") + op
        args = [CURL, "-sS", "--http1.1", "--cacert", self.node.cacert, "-D", "-", "-o", "-",
                "--max-time", "30"]
        if user:
            args += ["-u", user[0] + ":" + user[1]]
        if cert:
            args += ["--cert", cert, "--key", key]
        data = None
        if csr_der is not None or body is not None:
            data = body if body is not None else base64.encodebytes(csr_der)
            args += ["-X", "POST", "-H", "Content-Type: " + content_type, "--data-binary", "@-"]
        args.append(self.node.base + path)
        p = subprocess.run(args, input=data, capture_output=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"curl failed ({p.returncode}): {p.stderr.decode(errors='replace')}")
        return parse_http(p.stdout)

    def certs_of(self, response, name):
        der = base64.b64decode(response.body)
        p7 = self.path(name + ".p7")
        with open(p7, "wb") as f:
            f.write(der)
        pem = check(["openssl", "pkcs7", "-inform", "DER", "-in", p7, "-print_certs"])
        out = self.path(name + ".pem")
        with open(out, "w") as f:
            f.write(pem)
        return out, pem.count("BEGIN CERTIFICATE")

    def enroll(self, name, identifier=DEVICE, subject=None):
        key, csr = self.key_and_csr(name, subject or cn(identifier))
        r = self.est("simpleenroll", csr, user=(identifier, self.token(identifier)))
        self.assertEqual(r.status, 200, r)
        cert, n = self.certs_of(r, name)
        self.assertEqual(n, 1)
        p = self.verify(cert)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        return cert, key

    def cert_count(self):
        r = self.node.curl("GET", "/api/ca/certificates?limit=1000", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        return len(r.json()["certificates"])

    def record(self, identifier=DEVICE):
        return self.node.curl("GET", "/api/handles/" + identifier, auth=self.node.admin_auth())

    def value(self, record, type_):
        for v in record.json().get("values", []):
            if v["type"] == type_:
                return v["data"]["value"]
        return None

    def verify(self, cert, *extra):
        return run(["openssl", "verify", "-x509_strict", "-CAfile", self.node.cacert, "-untrusted",
                    self.intermediate, *extra, cert])

    # -- tests ---------------------------------------------------------------
    def test_cacerts_and_csrattrs(self):
        r = self.est("cacerts")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["content-type"].startswith("application/pkcs7-mime"))
        self.assertEqual(r.headers.get("content-transfer-encoding"), "base64")
        _, n = self.certs_of(r, "cacerts")
        self.assertEqual(n, 2, "the issuing CA and the root")
        r = self.est("csrattrs")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "application/csrattrs")
        der = self.path("csrattrs.der")
        with open(der, "wb") as f:
            f.write(base64.b64decode(r.body))
        self.assertIn("ecdsa-with-SHA256", check(["openssl", "asn1parse", "-inform", "DER", "-in", der]))

    def test_token_enrollment_writes_certificate_and_record(self):
        identifier = "88.100.1/DEV-ENROLL"
        cert, _ = self.enroll("enroll", identifier)
        self.assertEqual(self.verify(cert).returncode, 0, self.verify(cert).stdout)
        text = check(["openssl", "x509", "-in", cert, "-noout", "-text"])
        self.assertIn("URI:hdl:" + identifier, text)
        self.assertIn("TLS Web Client Authentication", text)
        self.assertIn("/crl/intermediate.crl", text)
        self.assertIn("OCSP - URI:http://127.0.0.1:%d/ocsp" % self.node.plain_port, text)
        serial = check(["openssl", "x509", "-in", cert, "-noout", "-serial"]).strip().split("=")[1]
        self.assertEqual(len(serial), 32, "16-byte serial")
        # GnuTLS agrees with the chain at its "high" verification profile.
        chain = self.path("enroll-chain.pem")
        with open(chain, "w") as f:
            f.write(open(cert).read() + open(self.intermediate).read())
        p = run(["certtool", "--verify-profile=high", "--load-ca-certificate", self.node.cacert,
                 "--verify", "--infile", chain])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rec = self.record(identifier)
        self.assertEqual(rec.status, 200, rec)
        self.assertEqual(self.value(rec, "IDRA_CERT_STATUS"), "valid")
        self.assertEqual(self.value(rec, "IDRA_CERT_PROFILE"), "device")
        self.assertEqual(self.value(rec, "IDRA_CERT_SERIAL").upper(), serial.upper())
        self.assertIn("BEGIN CERTIFICATE", self.value(rec, "IDRA_CERT"))

    def test_unauthenticated_enroll_gets_401_with_challenge(self):
        _, csr = self.key_and_csr("anon", "/CN=x")
        r = self.est("simpleenroll", csr)
        self.assertEqual(r.status, 401, r)
        self.assertIn("Basic", r.headers.get("www-authenticate", ""))
        # The challenge has an empty body (EST clients retry with credentials
        # without reading it); the reason is in a header.
        self.assertEqual(r.body, "")
        self.assertEqual(r.headers.get("content-length"), "0")
        self.assertIn("token", r.headers.get("x-idra-message", ""))
        # A wrong credential is an error with a JSON message.
        r = self.est("simpleenroll", csr, user=("88.100.1/NOBODY", "0" * 32 + ".x"))
        self.assertEqual(r.status, 401, r)
        self.assertIn("message", r.json())

    def test_negative_cases_write_nothing(self):
        identifier = "88.100.1/DEV-NEG"
        before = self.cert_count()
        tok = self.token(identifier)
        # CSR whose identifier differs from the token's.
        _, other = self.key_and_csr("neg-other", cn("88.100.1/SOMEONE-ELSE"))
        r = self.est("simpleenroll", other, user=(identifier, tok))
        self.assertEqual(r.status, 400, r)
        self.assertIn("SOMEONE-ELSE", r.json()["message"])
        # CSR with a bad signature: flip a byte of the signature.
        _, good = self.key_and_csr("neg-sig", cn(identifier))
        bad = bytearray(good)
        bad[-5] ^= 0x01
        r = self.est("simpleenroll", bytes(bad), user=(identifier, tok))
        self.assertEqual(r.status, 400, r)
        # Garbage base64.
        r = self.est("simpleenroll", user=(identifier, tok), body=b"this is not base64 !!!")
        self.assertEqual(r.status, 400, r)
        # Over 16 KiB.
        r = self.est("simpleenroll", user=(identifier, tok), body=base64.encodebytes(os.urandom(17 * 1024)))
        self.assertEqual(r.status, 413, r)
        # Wrong media type.
        r = self.est("simpleenroll", good, user=(identifier, tok), content_type="application/json")
        self.assertEqual(r.status, 415, r)
        # Wrong token.
        r = self.est("simpleenroll", good, user=(identifier, tok[:-2] + "xx"))
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.cert_count(), before)
        self.assertEqual(self.record(identifier).status, 404, "no record was written")
        # The token was never consumed: it still enrolls, once.
        r = self.est("simpleenroll", good, user=(identifier, tok))
        self.assertEqual(r.status, 200, r)
        r = self.est("simpleenroll", good, user=(identifier, tok))
        self.assertEqual(r.status, 401, r)
        self.assertIn("already used", r.json()["message"])
        self.assertEqual(self.cert_count(), before + 1)

    def test_expired_token(self):
        identifier = "88.100.1/DEV-EXP"
        tok = self.token(identifier, ttl="1s")
        time.sleep(2.1)
        _, csr = self.key_and_csr("exp", cn(identifier))
        before = self.cert_count()
        r = self.est("simpleenroll", csr, user=(identifier, tok))
        self.assertEqual(r.status, 401, r)
        self.assertIn("expired", r.json()["message"])
        self.assertEqual(self.cert_count(), before)

    def test_token_for_unhomed_prefix_refused(self):
        p = run([IDRA_BIN, "ca", "token", "create", "99.1/X", "--data", self.node.data_dir,
                 "--server", self.node.base])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("not homed", p.stderr)

    def test_reenroll_with_mtls(self):
        identifier = "88.100.1/DEV-RE"
        cert, key = self.enroll("re1", identifier)
        _, csr = self.key_and_csr("re2", cn(identifier))
        r = self.est("simplereenroll", csr, cert=cert, key=key)
        self.assertEqual(r.status, 200, r)
        new_cert, _ = self.certs_of(r, "re2")
        self.assertIn("URI:hdl:" + identifier, check(["openssl", "x509", "-in", new_cert, "-noout", "-text"]))
        self.assertEqual(self.verify(new_cert).returncode, 0)
        # Under a different identifier: refused, nothing written.
        before = self.cert_count()
        _, other = self.key_and_csr("re3", cn("88.100.1/NOT-ME"))
        r = self.est("simplereenroll", other, cert=cert, key=key)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.cert_count(), before)
        # Without a client certificate: 401.
        r = self.est("simplereenroll", csr)
        self.assertEqual(r.status, 401, r)

    def test_revocation_crl_ocsp_and_handshake(self):
        identifier = "88.100.1/DEV-REV"
        cert, key = self.enroll("rev", identifier)
        good_cert, _ = self.enroll("rev-good", "88.100.1/DEV-GOOD")
        plain = "http://127.0.0.1:%d" % self.node.plain_port

        def ocsp(c):
            return run(["openssl", "ocsp", "-issuer", self.intermediate, "-cert", c, "-url", plain + "/ocsp",
                        "-CAfile", self.node.cacert, "-resp_text"])

        p = ocsp(cert)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(": good", p.stdout)
        self.assertIn("Response verify OK", p.stderr + p.stdout)

        p = run([IDRA_BIN, "ca", "revoke", identifier, "--reason", "keyCompromise", "--data", self.node.data_dir,
                 "--server", self.node.base])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("revoked", p.stdout)
        self.assertEqual(self.value(self.record(identifier), "IDRA_CERT_STATUS"), "revoked:keyCompromise")

        p = ocsp(cert)
        self.assertIn(": revoked", p.stdout)
        self.assertIn("Reason: keyCompromise", p.stdout)
        self.assertIn(": good", ocsp(good_cert).stdout)
        # A certificate of another CA is unknown to this responder.
        other_key, other_cert = self.path("other.key"), self.path("other.pem")
        check(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", other_key, "-out", other_cert, "-subj", "/CN=other", "-days", "1"])
        p = run(["openssl", "ocsp", "-issuer", other_cert, "-cert", other_cert, "-url", plain + "/ocsp",
                 "-CAfile", self.node.cacert, "-resp_text"])
        self.assertIn(": unknown", p.stdout)

        # The CRL over plain HTTP and over HTTPS: the same DER, revoked cert listed.
        crl_der = self.path("crl.der")
        check([CURL, "-sS", "-f", "-o", crl_der, plain + "/crl/intermediate.crl"])
        crl_pem = self.path("crl.pem")
        check(["openssl", "crl", "-inform", "DER", "-in", crl_der, "-out", crl_pem])
        p = self.verify(cert, "-crl_check", "-CRLfile", crl_pem)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("certificate revoked", p.stdout + p.stderr)
        self.assertEqual(self.verify(good_cert, "-crl_check", "-CRLfile", crl_pem).returncode, 0)
        r = self.node.curl("GET", "/crl/intermediate.crl")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["content-type"], "application/pkix-crl")
        # The root's CRL, signed by the root, lists nothing (the issuing CA stands).
        root_crl = self.path("root.crl")
        check([CURL, "-sS", "-f", "-o", root_crl, plain + "/crl/root.crl"])
        p = run(["openssl", "crl", "-inform", "DER", "-in", root_crl, "-CAfile", self.node.cacert, "-noout", "-text"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("verify OK", p.stderr + p.stdout)
        self.assertIn("No Revoked Certificates", p.stdout)
        root_pem = self.path("root-crl.pem")
        check(["openssl", "crl", "-inform", "DER", "-in", root_crl, "-out", root_pem])
        both = self.path("both-crls.pem")
        with open(both, "w") as f:
            f.write(open(crl_pem).read() + open(root_pem).read())
        # Every certificate of the chain checked against its issuer's CRL.
        p = self.verify(good_cert, "-crl_check_all", "-CRLfile", both)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.verify(cert, "-crl_check_all", "-CRLfile", both)
        self.assertIn("certificate revoked", p.stdout + p.stderr)

        # The TLS handshake with the revoked certificate is refused.
        p = run([CURL, "-sS", "--cacert", self.node.cacert, "--cert", cert, "--key", key,
                 self.node.base + "/healthz"])
        self.assertNotEqual(p.returncode, 0, "handshake with a revoked client certificate must fail")
        # ... and reenrollment is impossible with it.
        p = run([CURL, "-sS", "--cacert", self.node.cacert, "--cert", good_cert, "--key", self.path("rev-good.key"),
                 self.node.base + "/healthz"])
        self.assertEqual(p.returncode, 0, p.stderr)

        # Revoking again: 409, clear message.
        p = run([IDRA_BIN, "ca", "revoke", identifier, "--data", self.node.data_dir, "--server", self.node.base])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("already revoked", p.stderr)

    def test_ocsp_get_rfc5019(self):
        cert, _ = self.enroll("get", "88.100.1/DEV-GET")
        req = self.path("get.req")
        check(["openssl", "ocsp", "-issuer", self.intermediate, "-cert", cert, "-no_nonce", "-reqout", req])
        b64 = base64.b64encode(open(req, "rb").read()).decode()
        from urllib.parse import quote
        resp = self.path("get.resp")
        check([CURL, "-sS", "-f", "-o", resp, "http://127.0.0.1:%d/ocsp/%s" % (self.node.plain_port, quote(b64, safe=""))])
        out = check(["openssl", "ocsp", "-respin", resp, "-issuer", self.intermediate, "-cert", cert,
                     "-CAfile", self.node.cacert, "-resp_text"])
        self.assertIn(": good", out)

    def test_plain_listener_serves_only_revocation(self):
        r = subprocess.run([CURL, "-sS", "-o", "-", "-w", "%{http_code}",
                            "http://127.0.0.1:%d/api/handles/%s" % (self.node.plain_port, DEVICE)],
                           capture_output=True, text=True, timeout=30)
        self.assertTrue(r.stdout.endswith("404"), r.stdout)
        self.assertIn("HTTPS", r.stdout)

    def test_admin_certificate_is_a_principal(self):
        admin_dir = os.path.join(self.node.data_dir, "admin")
        self.assertEqual(os.stat(os.path.join(admin_dir, "admin.key")).st_mode & 0o777, 0o600)
        passphrase = open(os.path.join(self.node.data_dir, "secrets", "key-passphrase")).read().strip()
        args = ["--cert", os.path.join(admin_dir, "admin.pem"), "--key", os.path.join(admin_dir, "admin.key"),
                "--pass", passphrase]
        r = self.node.curl("GET", "/api/ca/certificates", raw_args=args)
        self.assertEqual(r.status, 200, r)
        r = self.node.curl("GET", "/api/ca/certificates", raw_args=args,
                           headers=['Authorization: Handle clientCert="true"'])
        self.assertEqual(r.status, 200, r)
        # Without the certificate the same request is anonymous.
        r = self.node.curl("GET", "/api/ca/certificates")
        self.assertEqual(r.status, 401, r)
        r = self.node.curl("GET", "/api/ca/certificates", headers=['Authorization: Handle clientCert="true"'])
        self.assertEqual(r.status, 401, r)
        # A device certificate is a principal, but not an administrator.
        cert, key = self.enroll("notadmin", "88.100.1/DEV-NA")
        r = self.node.curl("GET", "/api/ca/certificates", raw_args=["--cert", cert, "--key", key])
        self.assertEqual(r.status, 403, r)

    def test_ocsp_stapling(self):
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.node.port, "-status",
                            "-CAfile", self.node.cacert, "-servername", "localhost"],
                           input="", capture_output=True, text=True, timeout=30)
        self.assertIn("OCSP Response Status: successful", p.stdout)
        self.assertIn("Cert Status: good", p.stdout)


    def test_admin_cli_issue_list_show(self):
        key, csr_der = self.key_and_csr("srv", "/CN=ignored")
        csr = self.path("srv.csr.der")
        out = self.path("srv.pem")
        common = ["--data", self.node.data_dir, "--server", self.node.base]
        p = run([IDRA_BIN, "ca", "issue", "--csr", csr, "--profile", "server", "--dns", "svc.example",
                 "--ip", "192.0.2.7", "--cn", "svc.example", "--out", out, *common])
        self.assertEqual(p.returncode, 0, p.stderr)
        serial = p.stdout.strip()
        self.assertEqual(self.verify(out).returncode, 0)
        text = check(["openssl", "x509", "-in", out, "-noout", "-text"])
        self.assertIn("DNS:svc.example", text)
        self.assertIn("IP Address:192.0.2.7", text)
        self.assertIn("TLS Web Server Authentication", text)
        self.assertNotIn("ignored", text, "nothing of the CSR's subject is copied")
        p = run([IDRA_BIN, "ca", "show", serial, *common])
        self.assertEqual(p.returncode, 0, p.stderr)
        shown = json.loads(p.stdout)
        self.assertEqual(shown["serial"], serial)
        self.assertEqual(shown["profile"], "server")
        self.assertEqual(shown["status"], "valid")
        self.assertIn("BEGIN CERTIFICATE", shown["certificate"])
        p = run([IDRA_BIN, "ca", "list", *common])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(serial, [c["serial"] for c in json.loads(p.stdout)["certificates"]])
        # A profile's SAN rules hold for administrators too: a device needs an identifier.
        p = run([IDRA_BIN, "ca", "issue", "--csr", csr, "--profile", "device", *common])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 400", p.stderr)
        p = run([IDRA_BIN, "ca", "show", "00", *common])
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 404", p.stderr)


class CaInitAndOfflineRoot(unittest.TestCase):
    """`idra ca init` with another key type, then the root key taken offline."""

    def test_init_ed25519_then_offline_root(self):
        data = tempfile.mkdtemp(prefix="idra-est-init-")
        node = Node(data_dir=data)
        try:
            p = run([IDRA_BIN, "ca", "init", "--algorithm", "ed25519", "--data", data])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(os.stat(os.path.join(data, "tls", "root.key")).st_mode & 0o777, 0o600)
            p = run([IDRA_BIN, "ca", "init", "--data", data])
            self.assertNotEqual(p.returncode, 0, "init never overwrites a CA")
            self.assertIn("ED25519", check(["openssl", "x509", "-in", os.path.join(data, "tls", "ca.pem"),
                                            "-noout", "-text"]).upper())
            exported = os.path.join(tempfile.gettempdir(), os.path.basename(data) + "-root.key")
            p = run([IDRA_BIN, "ca", "export-root", "--out", exported, "--remove", "--data", data])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertFalse(os.path.exists(os.path.join(data, "tls", "root.key")))
            self.assertEqual(os.stat(exported).st_mode & 0o777, 0o600)
            os.remove(exported)
            node.start()  # serves with the root offline
            self.assertIn(node.curl("PUT", "/api/prefixes/88.100.1", auth=node.admin_auth()).status, (200, 201))
            tok = check([IDRA_BIN, "ca", "token", "create", DEVICE, "--data", data, "--server", node.base]).strip()
            key, csr = os.path.join(data, "d.key"), os.path.join(data, "d.der")
            check(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
                   "-keyout", key, "-subj", "/CN=x", "-outform", "DER", "-out", csr])
            p = subprocess.run([CURL, "-sS", "--cacert", node.cacert, "-u", DEVICE + ":" + tok, "-H",
                                "Content-Type: application/pkcs10", "--data-binary", "@-", "-D", "-", "-o", "-",
                                node.base + "/.well-known/est/simpleenroll"],
                               input=base64.encodebytes(open(csr, "rb").read()), capture_output=True, timeout=60)
            r = parse_http(p.stdout)
            self.assertEqual(r.status, 200, r)
            # The root went offline before any root CRL was signed: say so.
            r = node.curl("GET", "/crl/root.crl")
            self.assertEqual(r.status, 404, r)
            self.assertIn("offline", r.json()["message"])
        finally:
            node.cleanup()


class ProfileRules(unittest.TestCase):
    """A profile that forbids a key type, from DATA/profiles/."""

    def test_key_type_forbidden_by_profile(self):
        data = tempfile.mkdtemp(prefix="idra-est-prof-")
        os.makedirs(os.path.join(data, "profiles"))
        shipped = os.path.join(os.path.dirname(__file__), "..", "..", "pki", "profiles", "device.json")
        profile = json.load(open(shipped))
        profile["key_types"] = ["EC-P256"]
        with open(os.path.join(data, "profiles", "device.json"), "w") as f:
            json.dump(profile, f)
        node = Node(data_dir=data)
        try:
            node.start()
            self.assertIn(node.curl("PUT", "/api/prefixes/88.100.1", auth=node.admin_auth()).status, (200, 201))
            tok = check([IDRA_BIN, "ca", "token", "create", DEVICE, "--data", data, "--server", node.base]).strip()
            key, csr = os.path.join(data, "rsa.key"), os.path.join(data, "rsa.der")
            check(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", "/CN=x",
                   "-outform", "DER", "-out", csr])
            p = subprocess.run([CURL, "-sS", "--cacert", node.cacert, "-u", DEVICE + ":" + tok, "-H",
                                "Content-Type: application/pkcs10", "--data-binary", "@-", "-D", "-", "-o", "-",
                                node.base + "/.well-known/est/simpleenroll"],
                               input=base64.encodebytes(open(csr, "rb").read()), capture_output=True, timeout=60)
            r = parse_http(p.stdout)
            self.assertEqual(r.status, 400, r)
            self.assertIn("RSA", r.json()["message"])
            self.assertEqual(node.curl("GET", "/api/handles/" + DEVICE, auth=node.admin_auth()).status, 404)
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()
