"""The idra command line: id check, resolve, import, help."""
import json
import os
import subprocess
import tempfile
import unittest

from idra_harness import IDRA_BIN, Node


def idra(*args, input=None, cwd=None):
    return subprocess.run([IDRA_BIN, *args], capture_output=True, text=True, input=input, cwd=cwd, timeout=120)


class IdCheckTest(unittest.TestCase):
    def test_valid_identifiers(self):
        cases = [
            ("88.100.1/DEV-42", "handle", "88.100.1/DEV-42"),
            ("hdl:88.100.abc/x", "handle", "88.100.ABC/x"),
            ("https://id.example.com/01/09506000134352/21/A1", "gs1", "IDRA/gs1/01/09506000134352/21/A1"),
            ("https://id.example.com/gtin/09506000134352/ser/A1", "gs1", "IDRA/gs1/01/09506000134352/21/A1"),
            ("urn:oid:1.3.6.1.4.1", "oid", "IDRA/oid/1.3.6.1.4.1"),
        ]
        for text, scheme, handle in cases:
            p = idra("id", "check", "--json", text)
            self.assertEqual(p.returncode, 0, (text, p.stdout, p.stderr))
            out = json.loads(p.stdout)
            self.assertEqual(out["scheme"], scheme, text)
            self.assertEqual(out["handle"], handle, text)

    def test_invalid_identifiers_exit_non_zero(self):
        for text in ["https://id.example.com/01/09506000134353", "urn:oid:1.2.0840", "88.100/" + "x" * 2050,
                     "no-slash-handle"]:
            p = idra("id", "check", text)
            self.assertEqual(p.returncode, 1, text)
            self.assertTrue(p.stderr.strip(), text)

    def test_scheme_option(self):
        link = "https://a/01/2112345678900"
        self.assertEqual(idra("id", "check", "--scheme", "gs1", link).returncode, 1)
        p = idra("id", "check", "--scheme", "iec61406", link)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("iec61406", p.stdout)
        self.assertEqual(idra("id", "check", "--scheme", "nope", link).returncode, 2)

    def test_bare_gtin_is_normalized_to_14_digits(self):
        for gtin in ["9506000134352", "09506000134352"]:
            p = idra("id", "check", "--json", "--scheme", "gs1", gtin)
            self.assertEqual(p.returncode, 0, (gtin, p.stderr))
            self.assertEqual(json.loads(p.stdout)["handle"], "IDRA/gs1/01/09506000134352")

    def test_prefix_option(self):
        p = idra("id", "check", "--json", "--prefix", "88.900", "urn:oid:2.999")
        self.assertEqual(json.loads(p.stdout)["handle"], "88.900/oid/2.999")


class HelpTest(unittest.TestCase):
    def test_help_everywhere(self):
        for args in [["--help"], ["serve", "--help"], ["resolve", "--help"], ["id", "check", "--help"],
                     ["import", "--help"], ["ca", "--help"]]:
            p = idra(*args)
            self.assertEqual(p.returncode, 0, args)
            self.assertIn("Usage", p.stdout if args != ["--help"] else "Usage" + p.stdout)
            self.assertIn("idra", p.stdout)
        self.assertIn("Examples", idra("serve", "--help").stdout)
        self.assertEqual(idra("bogus").returncode, 2)
        self.assertEqual(idra().returncode, 2)
        self.assertEqual(idra("serve", "--listen", "nonsense").returncode, 2)
        self.assertEqual(idra("ca", "bogus").returncode, 2)
        self.assertEqual(idra("ca", "token", "create").returncode, 2)

    def test_config_errors_name_the_key(self):
        import tempfile
        for cfg, key in [({"store": {"prefault_max_bytes": -1}}, "store.prefault_max_bytes"),
                         ({"limits": {"max_body_bytes": "big"}}, "limits.max_body_bytes"),
                         ({"limits": {"typo_knob": 1}}, "limits.typo_knob"),
                         ({"io_model": "threads"}, "io_model"),
                         ({"ca": {"typo": 1}}, "ca.typo"),
                         ({"ca": {"http_base": "ftp://x"}}, "ca.http_base"),
                         ({"ca": {"reenroll_grace_seconds": -5}}, "ca.reenroll_grace_seconds"),
                         ({"ca": {"idevid_anchors": [{"name": "x"}]}}, "ca.idevid_anchors[0].certificate_file"),
                         ({"plain_http": {"listen": "nowhere"}}, "plain_http.listen")]:
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
                json.dump(cfg, f)
            p = idra("serve", "--config", f.name, "--data", tempfile.mkdtemp())
            os.remove(f.name)
            self.assertEqual(p.returncode, 2, cfg)
            self.assertIn(key, p.stderr, cfg)


class ImportAndResolveTest(unittest.TestCase):
    def test_import_then_resolve_with_the_cli(self):
        data = tempfile.mkdtemp(prefix="idra-it-import-")
        records = "\n".join(json.dumps(r) for r in [
            {"handle": "88.200/a", "values": [{"index": 1, "type": "URL", "data": "https://a.example"}]},
            {"handle": "urn:epc:id:sgtin:0614141.812345.400",
             "values": [{"index": 1, "type": "URL", "data": "https://sgtin.example"}]},
        ]) + "\n"
        p = idra("import", "-", "--data", data, input=records)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)  # 88.200 is not homed
        self.assertIn("not homed", p.stderr)
        p = idra("import", "-", "--data", data, "--home-prefixes", input=records)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("imported 2 records", p.stdout)
        bad = idra("import", "-", "--data", data, input='{"handle": "88.200/b", "values": [{"index": 0}]}\n')
        self.assertEqual(bad.returncode, 1)
        self.assertIn("line 1", bad.stderr)

        node = Node(data_dir=data).start()
        try:
            server = node.base
            p = idra("resolve", "88.200/a", "--server", server, "--cacert", node.cacert)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["values"][0]["data"]["value"], "https://a.example")
            # The SGTIN was stored under its GS1 handle; the Digital Link finds it.
            p = idra("resolve", "https://x.example/01/80614141123458/21/400", "--server", server,
                     "--cacert", node.cacert)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["handle"], "IDRA/gs1/01/80614141123458/21/400")
            p = idra("resolve", "88.200/missing", "--server", server, "--cacert", node.cacert)
            self.assertEqual(p.returncode, 1)
            self.assertIn("404", p.stderr)
            # Without the trust anchor the TLS handshake fails: no silent insecure fallback.
            p = idra("resolve", "88.200/a", "--server", server, cwd=tempfile.gettempdir())
            self.assertEqual(p.returncode, 1)
            # Authenticated resolution with the admin credentials file.
            p = idra("resolve", "88.200/a", "--server", server, "--cacert", node.cacert,
                     "--auth", node.admin["id"], "--secret-file", os.path.join(data, "admin.json"))
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            node.cleanup()


if __name__ == "__main__":
    unittest.main()
