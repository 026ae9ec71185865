"""EST with a third-party client: BouncyCastle's org.bouncycastle.est
(Debian's libbcpkix-java), driven by tests/integration/java/EstClient.java,
which setUpClass compiles with javac.

The client verifies the server's chain against DATA/tls/ca.pem and its name
(127.0.0.1, an IP SAN) itself; enrollment answers the server's 401 Basic
challenge with the identifier and its one-time token, re-enrollment
authenticates with the current certificate over mTLS. (EstClient answers the
challenge with its own ESTAuth: BouncyCastle 1.72's HttpAuth closes the 401
unread and fails on any 401 with a body; see EstClient.ChallengeBasicAuth.)

A missing javac, java or BouncyCastle jar fails the tests; it never skips
(deploy/setup.sh installs them).
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from idra_harness import IDRA_BIN, Node

HERE = os.path.dirname(os.path.abspath(__file__))
JARS = [os.path.join("/usr/share/java", j) for j in ("bcpkix.jar", "bcprov.jar", "bcutil.jar")]
ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=180, **kw)


def check(args, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p.stdout


class BouncyCastleEst(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("javac", "java"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is missing: deploy/setup.sh installs openjdk-17-jdk-headless")
        for jar in JARS:
            if not os.path.exists(jar):
                raise RuntimeError(f"{jar} is missing: deploy/setup.sh installs libbcpkix-java, libbcprov-java, "
                                   "libbcutil-java")
        cls.tmp = tempfile.mkdtemp(prefix="idra-bc-")
        classes = os.path.join(cls.tmp, "classes")
        os.makedirs(classes)
        check(["javac", "-nowarn", "-cp", ":".join(JARS), "-d", classes,
               os.path.join(HERE, "java", "EstClient.java")])
        cls.classpath = ":".join([classes] + JARS)
        cls.node = Node().start()
        try:
            r = cls.node.curl("PUT", "/api/prefixes/88.100.1", auth=cls.node.admin_auth())
            assert r.status in (200, 201), r
            cls.intermediate = os.path.join(cls.tmp, "intermediate.pem")
            shutil.copyfile(os.path.join(cls.node.data_dir, "tls", "intermediate.pem"), cls.intermediate)
        except BaseException:
            cls.node.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # -- helpers -------------------------------------------------------------
    def client(self, *args):
        return run(["java", "-cp", self.classpath, "EstClient", "127.0.0.1:%d" % self.node.port,
                    self.node.cacert, *args])

    def ok(self, *args):
        p = self.client(*args)
        self.assertEqual(p.returncode, 0, f"EstClient {args[0]}: {p.stdout}\n{p.stderr}")
        return p.stdout

    def token(self, identifier):
        p = run([IDRA_BIN, "ca", "token", "create", identifier, "--data", self.node.data_dir,
                 "--server", self.node.base])
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def outdir(self, name):
        return os.path.join(self.tmp, name)

    def field(self, out, name):
        for line in out.splitlines():
            if line.startswith(name + " "):
                return line[len(name) + 1:]
        self.fail(f"no {name!r} in {out!r}")

    def verify(self, cert):
        return run(["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", self.node.cacert,
                    "-untrusted", self.intermediate, cert])

    def text(self, cert):
        return check(["openssl", "x509", "-in", cert, "-noout", "-text"])

    def serial(self, cert):
        return check(["openssl", "x509", "-in", cert, "-noout", "-serial"]).strip().split("=")[1].upper()

    def cert_count(self):
        r = self.node.curl("GET", "/api/ca/certificates?limit=1000", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        return len(r.json()["certificates"])

    def record_value(self, identifier, type_):
        r = self.node.curl("GET", "/api/handles/" + identifier, auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        for v in r.json().get("values", []):
            if v["type"] == type_:
                return v["data"]["value"]
        return None

    # -- tests ---------------------------------------------------------------
    def test_cacerts(self):
        out = self.ok("cacerts")
        self.assertEqual(self.field(out, "certificates"), "2", out)
        self.assertEqual(out.count("subject "), 2, out)

    def test_csrattrs(self):
        out = self.ok("csrattrs")
        self.assertIn("oid " + ECDSA_WITH_SHA256, out.splitlines())

    def test_enroll_then_reenroll(self):
        identifier = "88.100.1/BC-1"
        first = self.outdir("bc1")
        out = self.ok("enroll", identifier, self.token(identifier), first)
        cert, key = os.path.join(first, "cert.pem"), os.path.join(first, "key.pem")
        p = self.verify(cert)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        text = self.text(cert)
        self.assertIn("URI:hdl:" + identifier, text)
        self.assertIn("TLS Web Client Authentication", text)
        serial = self.serial(cert)
        # BigInteger.toString(16) drops leading zeros; openssl prints them.
        self.assertEqual(serial.lstrip("0"), self.field(out, "serial").lstrip("0"))
        self.assertEqual(self.record_value(identifier, "IDRA_CERT_SERIAL").upper(), serial)
        self.assertEqual(self.record_value(identifier, "IDRA_CERT_STATUS"), "valid")
        # The key BC wrote is the certificate's.
        self.assertEqual(check(["openssl", "pkey", "-in", key, "-pubout"]),
                         check(["openssl", "x509", "-in", cert, "-noout", "-pubkey"]))

        second = self.outdir("bc1-re")
        out = self.ok("reenroll", cert, key, second)
        new_cert = os.path.join(second, "cert.pem")
        p = self.verify(new_cert)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("URI:hdl:" + identifier, self.text(new_cert))
        new_serial = self.serial(new_cert)
        self.assertNotEqual(new_serial, serial)
        self.assertEqual(self.record_value(identifier, "IDRA_CERT_SERIAL").upper(), new_serial)
        # The renewed certificate works as a TLS client certificate with BC too.
        third = self.outdir("bc1-re2")
        self.ok("reenroll", new_cert, os.path.join(second, "key.pem"), third)
        self.assertIn("URI:hdl:" + identifier, self.text(os.path.join(third, "cert.pem")))

    def test_stock_httpauth_enrolls(self):
        # BouncyCastle's own HttpAuth answers the 401 challenge (empty body) with Basic.
        identifier = "88.100.1/BC-STOCK"
        out_dir = self.outdir("stock")
        self.ok("enroll-httpauth", identifier, self.token(identifier), out_dir)
        cert = os.path.join(out_dir, "cert.pem")
        p = self.verify(cert)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("URI:hdl:" + identifier, self.text(cert))

    def test_reused_token_is_refused(self):
        identifier = "88.100.1/BC-REUSE"
        tok = self.token(identifier)
        self.ok("enroll", identifier, tok, self.outdir("reuse1"))
        before = self.cert_count()
        p = self.client("enroll", identifier, tok, self.outdir("reuse2"))
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("HTTP status 401", p.stderr)
        self.assertIn("already used", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.outdir("reuse2"), "cert.pem")))
        self.assertEqual(self.cert_count(), before)

    def test_wrong_trust_anchor_is_refused(self):
        # The client really verifies the server: against another root it refuses.
        key, pem = os.path.join(self.tmp, "other.key"), os.path.join(self.tmp, "other.pem")
        check(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-out", pem, "-subj", "/CN=not the idra root", "-days", "1"])
        p = run(["java", "-cp", self.classpath, "EstClient", "127.0.0.1:%d" % self.node.port, pem, "cacerts"])
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("certification path", p.stderr)


if __name__ == "__main__":
    unittest.main()
