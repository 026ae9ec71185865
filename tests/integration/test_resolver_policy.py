"""The GS1 resolver under the Cedar policies and the audit log, over real
HTTPS with partner client certificates: a restricted link (a GS1_LINK value
without public read) is invisible to anonymous callers and to a partner whose
organization is not granted links, visible to the partner that is; every
resolution leaves an audit record naming the item and the links returned.
"""
import json
import os
import shutil
import tempfile
import time
import unittest
from urllib.parse import quote

from idra_harness import IDRA_BIN, Node
from test_policy import check, copy_policies, write

GTIN = "09506000134352"
HANDLE = "IDRA/gs1/01/" + GTIN


class ResolverPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="idra-resolver-policy-")
        cls.policies = os.path.join(cls.tmp, "policies")
        copy_policies(cls.policies)
        # Both organizations are partners granted the GS1 items (prefix IDRA);
        # acme may read GS1 links, globex only URL values.
        write(os.path.join(cls.policies, "entities.json"), json.dumps([
            {"uid": {"type": "Org", "id": "acme"}, "attrs": {"grantedTypes": ["GS1_LINK", "GS1_ITEM_DESCRIPTION"]},
             "parents": [{"type": "Role", "id": "partner"}]},
            {"uid": {"type": "Org", "id": "globex"}, "attrs": {"grantedTypes": ["URL"]},
             "parents": [{"type": "Role", "id": "partner"}]}]))
        write(os.path.join(cls.policies, "links.json"), json.dumps([
            {"template": "partner-grant", "id": "acme-gs1",
             "slots": {"?principal": 'Org::"acme"', "?resource": 'Prefix::"IDRA"'}},
            {"template": "partner-grant", "id": "globex-gs1",
             "slots": {"?principal": 'Org::"globex"', "?resource": 'Prefix::"IDRA"'}}]))
        cls.node = Node(config={"policy": {"directory": cls.policies}}).start()
        cls.admin = cls.node.admin_auth()
        r = cls.node.curl("POST", "/api/gs1/links", auth=cls.admin, body={
            "identifier": "(01)" + GTIN,
            "links": [
                {"linkType": "gs1:pip", "href": "https://brand.example/rice", "title": "Product", "default": True},
                {"linkType": "gs1:recallStatus", "href": "https://brand.example/recall-internal",
                 "title": "Recall (partners)", "public": False},
            ]})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.node.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def issue(self, name, org):
        key, csr, out = (os.path.join(self.tmp, name + ext) for ext in (".key", ".csr", ".pem"))
        check(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", key, "-subj", "/CN=" + name, "-out", csr])
        check([IDRA_BIN, "ca", "issue", "--csr", csr, "--profile", "partner", "--cn", name, "--out", out,
               "--org", org, "--data", self.node.data_dir, "--server", self.node.base])
        return ["--cert", out, "--key", key]

    def test_restricted_link_only_for_the_authorized_partner(self):
        acme = self.issue("acme-app", "acme")
        globex = self.issue("globex-app", "globex")
        recall = "/01/" + GTIN + "?linkType=gs1:recallStatus"

        r = self.node.curl("GET", recall, raw_args=acme)
        self.assertEqual(r.status, 307, r)
        self.assertEqual(r.headers["location"], "https://brand.example/recall-internal")
        linkset = self.node.curl("GET", "/01/" + GTIN + "?linkType=linkset", raw_args=acme).json()["linkset"][0]
        self.assertIn("https://gs1.org/voc/recallStatus", linkset)

        for who, args in (("anonymous", []), ("globex", globex)):
            r = self.node.curl("GET", recall, raw_args=args)
            self.assertEqual(r.status, 404, (who, r))
            self.assertNotIn("recall-internal", r.body + r.headers.get("link", ""), who)
            ls = self.node.curl("GET", "/01/" + GTIN + "?linkType=linkset", raw_args=args)
            self.assertNotIn("recall-internal", ls.body, who)
        # Anonymous callers still follow the public default link; globex may
        # read no GS1 links at all, so it has no default link either.
        self.assertEqual(self.node.curl("GET", "/01/" + GTIN).headers["location"], "https://brand.example/rice")
        self.assertEqual(self.node.curl("GET", "/01/" + GTIN, raw_args=globex).status, 404)

    def test_every_resolution_is_audited(self):
        r = self.node.curl("GET", "/01/" + GTIN + "?utm=x")
        self.assertEqual(r.status, 307, r)
        rid = r.headers["x-request-id"]
        deadline = time.time() + 5
        while True:
            q = self.node.curl("GET", "/api/audit/entries?limit=1000&identifier=" + quote(HANDLE, safe=""),
                               auth=self.admin)
            self.assertEqual(q.status, 200, q)
            found = [e["record"] for e in q.json()["entries"] if e["record"]["request_id"] == rid]
            if found:
                break
            self.assertLess(time.time(), deadline, "no audit entry for the resolution")
            time.sleep(0.1)
        record = found[0]
        self.assertEqual(record["resources"], [HANDLE])
        self.assertEqual(record["http_status"], 307)
        self.assertEqual(record["decision"], "allow")
        self.assertEqual(record["principal"]["kind"], "anonymous")


if __name__ == "__main__":
    unittest.main()
