"""IDevID enrollment (RFC 7030 with a manufacturer-installed certificate,
IEEE 802.1AR) and principals from external CAs, over real HTTPS with curl.

The manufacturer CA, its IDevIDs and a partner CA are made here with the
openssl command line; the node trusts them through its "ca" configuration:

  idevid_anchors: an IDevID chaining to the anchor enrolls without a token;
                  its identifier comes from the subject's serialNumber
                  (through identifier_template) or from a hdl: URI SAN.
  external_cas:   a client certificate from the CA is a principal with the
                  configured role, not an administrator.

Every negative case checks its status AND that nothing was written.
"""
import base64
import os
import shutil
import subprocess
import tempfile
import unittest

from idra_harness import CURL, Node, parse_http

PREFIX = "88.100.1"


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(args, **kw):
    p = run(args, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{args[0]} failed ({p.returncode}): {p.stdout}\n{p.stderr}")
    return p.stdout


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]

CA_EXT = """[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

LEAF_EXT = """[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


class Pki:
    """A little CA made with the openssl command line (X509_STRICT-clean)."""

    def __init__(self, tmp, name, subject):
        self.tmp = tmp
        self.name = name
        self.key = os.path.join(tmp, name + ".key")
        self.cert = os.path.join(tmp, name + ".pem")
        ext = os.path.join(tmp, name + ".ext")
        with open(ext, "w") as f:
            f.write(CA_EXT)
        check(["openssl", "req", "-x509", *EC, "-nodes", "-keyout", self.key, "-out", self.cert, "-subj", subject,
               "-days", "30", "-config", ext, "-extensions", "ca"])

    def leaf(self, name, subject, san=None):
        key, csr, cert = (os.path.join(self.tmp, name + s) for s in (".key", ".csr", ".pem"))
        check(["openssl", "req", "-new", *EC, "-nodes", "-keyout", key, "-out", csr, "-subj", subject])
        ext = os.path.join(self.tmp, name + ".ext")
        with open(ext, "w") as f:
            f.write(LEAF_EXT + (f"subjectAltName = {san}\n" if san else ""))
        check(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key, "-set_serial",
               str(int.from_bytes(os.urandom(15), "big")), "-days", "30", "-extfile", ext, "-extensions", "leaf",
               "-out", cert])
        p = run(["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", self.cert, cert])
        assert p.returncode == 0, f"{name} does not verify strictly: {p.stdout}{p.stderr}"
        return cert, key


class Idevid(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="idra-idevid-")
        cls.acme = Pki(cls.tmp, "acme-ca", "/O=Acme Devices/CN=Acme IDevID CA")
        cls.acme_uri = Pki(cls.tmp, "acme-uri-ca", "/O=Acme Devices/CN=Acme IDevID URI CA")
        cls.rogue = Pki(cls.tmp, "rogue-ca", "/O=Rogue/CN=Rogue IDevID CA")
        cls.partner = Pki(cls.tmp, "partner-ca", "/O=Partner/CN=Partner CA")
        cls.device = cls.acme.leaf("sn-123", "/O=Acme Devices/CN=Acme Sensor/serialNumber=SN-123")
        cls.no_serial = cls.acme.leaf("no-serial", "/O=Acme Devices/CN=Acme Sensor")
        cls.uri_device = cls.acme_uri.leaf("uri-1", "/O=Acme Devices/CN=Acme Gateway", san="URI:hdl:" + PREFIX + "/URI-1")
        cls.rogue_device = cls.rogue.leaf("rogue", "/O=Rogue/CN=Fake Sensor/serialNumber=SN-666")
        cls.partner_client = cls.partner.leaf("partner", "/O=Partner/CN=partner-client")
        config = {"ca": {
            "idevid_anchors": [
                {"name": "acme", "certificate_file": cls.acme.cert, "map_from": "serialNumber",
                 "identifier_template": PREFIX + "/{serial}", "profile": "device"},
                {"name": "acme-uri", "certificate_file": cls.acme_uri.cert, "map_from": "uri", "profile": "device"},
            ],
            "external_cas": [{"name": "partner", "certificate_file": cls.partner.cert, "role": "partner"}],
        }}
        cls.node = Node(config=config).start()
        try:
            r = cls.node.curl("PUT", "/api/prefixes/" + PREFIX, auth=cls.node.admin_auth())
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
    def path(self, name):
        return os.path.join(self.tmp, name)

    def csr(self, name, identifier):
        key, der = self.path(name + ".new.key"), self.path(name + ".csr.der")
        check(["openssl", "req", "-new", *EC, "-nodes", "-keyout", key, "-subj", "/CN=" + identifier.replace("/", "\\/"),
               "-outform", "DER", "-out", der])
        with open(der, "rb") as f:
            return f.read()

    def curl(self, path, client=None, body=None, content_type="application/pkcs10"):
        """(curl's exit code, parsed response or None, stderr)."""
        args = [CURL, "-sS", "--http1.1", "--cacert", self.node.cacert, "-D", "-", "-o", "-", "--max-time", "30"]
        if client:
            args += ["--cert", client[0], "--key", client[1]]
        if body is not None:
            args += ["-X", "POST", "-H", "Content-Type: " + content_type, "--data-binary", "@-"]
        args.append(self.node.base + path)
        p = subprocess.run(args, input=body, capture_output=True, timeout=60)
        response = parse_http(p.stdout) if p.returncode == 0 else None
        return p.returncode, response, p.stderr.decode(errors="replace")

    def enroll(self, client, identifier, name):
        return self.curl("/.well-known/est/simpleenroll", client, base64.encodebytes(self.csr(name, identifier)))

    def issued(self, response, name):
        p7 = self.path(name + ".p7")
        with open(p7, "wb") as f:
            f.write(base64.b64decode(response.body))
        pem = check(["openssl", "pkcs7", "-inform", "DER", "-in", p7, "-print_certs"])
        self.assertEqual(pem.count("BEGIN CERTIFICATE"), 1)
        out = self.path(name + ".issued.pem")
        with open(out, "w") as f:
            f.write(pem)
        return out

    def cert_count(self):
        r = self.node.curl("GET", "/api/ca/certificates?limit=1000", auth=self.node.admin_auth())
        self.assertEqual(r.status, 200, r)
        return len(r.json()["certificates"])

    def record(self, identifier):
        return self.node.curl("GET", "/api/handles/" + identifier, auth=self.node.admin_auth())

    def value(self, record, type_):
        for v in record.json().get("values", []):
            if v["type"] == type_:
                return v["data"]["value"]
        return None

    def assert_enrolled(self, response, identifier, name):
        self.assertIsNotNone(response)
        self.assertEqual(response.status, 200, response)
        cert = self.issued(response, name)
        p = run(["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", self.node.cacert,
                 "-untrusted", self.intermediate, cert])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("URI:hdl:" + identifier, check(["openssl", "x509", "-in", cert, "-noout", "-text"]))
        serial = check(["openssl", "x509", "-in", cert, "-noout", "-serial"]).strip().split("=")[1]
        rec = self.record(identifier)
        self.assertEqual(rec.status, 200, rec)
        self.assertEqual(self.value(rec, "IDRA_CERT_STATUS"), "valid")
        self.assertEqual(self.value(rec, "IDRA_CERT_PROFILE"), "device")
        self.assertEqual(self.value(rec, "IDRA_CERT_SERIAL").upper(), serial.upper())
        return cert

    # -- IDevID enrollment -----------------------------------------------------
    def test_idevid_serial_number_enrolls_without_token(self):
        identifier = PREFIX + "/SN-123"
        before = self.cert_count()
        rc, r, err = self.enroll(self.device, identifier, "sn-123")
        self.assertEqual(rc, 0, err)
        self.assert_enrolled(r, identifier, "sn-123")
        self.assertEqual(self.cert_count(), before + 1)

    def test_idevid_uri_san_enrolls(self):
        identifier = PREFIX + "/URI-1"
        rc, r, err = self.enroll(self.uri_device, identifier, "uri-1")
        self.assertEqual(rc, 0, err)
        self.assert_enrolled(r, identifier, "uri-1")

    def test_idevid_csr_for_another_identifier_refused(self):
        before = self.cert_count()
        rc, r, err = self.enroll(self.device, PREFIX + "/SN-999", "sn-other")
        self.assertEqual(rc, 0, err)
        self.assertEqual(r.status, 400, r)
        self.assertIn("SN-999", r.json()["message"])
        self.assertEqual(self.cert_count(), before)
        self.assertEqual(self.record(PREFIX + "/SN-999").status, 404, "no record was written")

    def test_idevid_from_unconfigured_manufacturer_fails_handshake(self):
        before = self.cert_count()
        rc, r, err = self.enroll(self.rogue_device, PREFIX + "/SN-666", "rogue")
        self.assertNotEqual(rc, 0, f"the handshake with an unknown manufacturer's IDevID must fail: {r}")
        self.assertIn("unknown ca", err)
        self.assertEqual(self.cert_count(), before)
        self.assertEqual(self.record(PREFIX + "/SN-666").status, 404, "no record was written")

    def test_idevid_without_serial_number_refused(self):
        before = self.cert_count()
        rc, r, err = self.enroll(self.no_serial, PREFIX + "/NO-SERIAL", "no-serial")
        self.assertEqual(rc, 0, err)
        self.assertIn(r.status, (401, 403), r)
        self.assertIn("message", r.json())
        self.assertEqual(self.cert_count(), before)
        self.assertEqual(self.record(PREFIX + "/NO-SERIAL").status, 404, "no record was written")

    def test_idevid_is_not_a_reenrollment_credential(self):
        before = self.cert_count()
        rc, r, err = self.curl("/.well-known/est/simplereenroll", self.device,
                               base64.encodebytes(self.csr("sn-123-re", PREFIX + "/SN-123")))
        self.assertEqual(rc, 0, err)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.cert_count(), before)

    # -- external CAs ------------------------------------------------------------
    def test_external_ca_principal_is_not_admin(self):
        rc, r, err = self.curl("/api/ca/certificates", self.partner_client)
        self.assertEqual(rc, 0, f"the partner's certificate must pass the TLS handshake: {err}")
        self.assertEqual(r.status, 403, r)
        rc, r, err = self.curl("/api/ca/certificates")
        self.assertEqual(rc, 0, err)
        self.assertEqual(r.status, 401, r)

    def test_external_ca_certificate_cannot_enroll(self):
        before = self.cert_count()
        rc, r, err = self.enroll(self.partner_client, PREFIX + "/PARTNER", "partner-enroll")
        self.assertEqual(rc, 0, err)
        self.assertEqual(r.status, 401, r)
        self.assertEqual(self.cert_count(), before)
        self.assertEqual(self.record(PREFIX + "/PARTNER").status, 404)


if __name__ == "__main__":
    unittest.main()
