#!/usr/bin/env python3
"""Certificates from the config and from the store (issue 3): inline PEM in
tls.certificates (cert_pem/key_pem, ${ENV} expansion, errors at
file:line:column, an expired certificate served with a warning), and
certificates managed through /api/v1/certificates in store mode (SQLite and
PostgreSQL): added, replaced and deleted while running and served by SNI on
new handshakes without a restart, the private key sealed at rest (a raw read
of the database finds no key), config certificates winning names over stored
ones. openssl s_client and curl are the clients."""

import base64
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, Nginx, run_check, wait_until  # noqa: E402
from pg import PostgresServer, PostgresUnavailable  # noqa: E402
from test_tls import CURL, OPENSSL, Pki, curl  # noqa: E402
from test_tls import served_subject as _served_subject  # noqa: E402
from upstream import Upstream  # noqa: E402

TOKEN = "it-admin-token-tls-certs-0123456789"


def served_subject(port, servername):
    """"CN=a.test" whatever spacing this openssl prints ("CN = a.test")."""
    return _served_subject(port, servername).replace(" = ", "=")


def read(path):
    with open(path) as f:
        return f.read()


def key_lines(key_path):
    """The base64 lines of a PEM key: none may be found at rest."""
    return [l for l in read(key_path).splitlines() if l and not l.startswith("-----")]


def expired_certificate(d, name):
    """A self-signed certificate valid only in January 2020 (openssl ca can
    set both dates; `req -not_before` needs OpenSSL 3.4) -> (key, crt)."""
    w = os.path.join(d, "expired-" + name)
    os.makedirs(w)
    key, csr, crt = (os.path.join(w, f) for f in ("k.pem", "r.csr", "c.pem"))
    with open(os.path.join(w, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = %s/index.txt\nnew_certs_dir = %s\n"
                "serial = %s/serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\n"
                "[p]\ncommonName = supplied\n[ext]\nsubjectAltName = DNS:%s\n" % (w, w, w, name))
    open(os.path.join(w, "index.txt"), "w").close()
    with open(os.path.join(w, "serial"), "w") as f:
        f.write("01\n")
    run = lambda *a: subprocess.run([OPENSSL] + list(a), check=True, capture_output=True,
                                    timeout=60)
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
        "-out", csr, "-subj", "/CN=" + name)
    run("ca", "-batch", "-config", os.path.join(w, "ca.cnf"), "-selfsign", "-keyfile", key,
        "-in", csr, "-out", crt, "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
        "-extensions", "ext")
    return key, crt


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class InlinePem(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="gatehouse-tls-inline-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        cls.pki = Pki(cls.d, "inline")
        cls.a = cls.pki.issue("a", "/CN=a.test", dns=["a.test"])
        cls.b = cls.pki.issue("b", "/CN=b.test", dns=["b.test"])
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)

    def config_text(self, entries):
        lines = ["tls:", "  certificates:"]
        for e in entries:
            first = True
            for k, v in e.items():
                lead = "    - " if first else "      "
                first = False
                if "\n" in v:
                    lines.append(lead + k + ": |")
                    lines += ["        " + l for l in v.rstrip("\n").split("\n")]
                else:
                    lines.append(lead + k + ": " + json.dumps(v))
        lines += ["upstreams:", "  - name: u", "    targets: [\"%s\"]" % self.up.address,
                  "routes:", "  - {name: all, match: {paths: [\"/\"]}, upstream: u}"]
        return "\n".join(lines) + "\n"

    def test_inline_pem_served_by_sni_with_env_key(self):
        # The key from the environment, the certificate inline; a file entry beside it.
        text = self.config_text([{"cert_pem": read(self.a[0]), "key_pem": "${TEST_A_KEY}"},
                                 {"cert": self.b[0], "key": self.b[1]}])
        gh = Gatehouse(text, extra_args=["--proxy-tls-listen", "127.0.0.1:0"],
                       env={"TEST_A_KEY": read(self.a[1])})
        self.addCleanup(gh.cleanup)
        self.assertIn("CN=a.test", served_subject(gh.proxy_tls_port, "a.test"))
        self.assertIn("CN=b.test", served_subject(gh.proxy_tls_port, "b.test"))
        rc, status, body, err = curl(gh.proxy_tls_port, "a.test", "/x", self.pki.ca_crt)
        self.assertEqual((rc, status), (0, 200), err)
        gh.stop_and_check(self)

    def test_errors_at_file_line_column(self):
        listener = "listeners:\n  proxy_tls: {address: \"127.0.0.1:0\"}\n"
        # A key that belongs to another certificate: the key_pem's position (line 8).
        text = self.config_text([{"cert_pem": read(self.a[0]), "key_pem": read(self.b[1])}])
        rc, _, err, path = run_check(text + listener)
        self.assertEqual(rc, 1, err)
        line = text.split("\n").index("      key_pem: |") + 1
        self.assertIn("%s:%d:16: tls.certificates[0].key_pem:" % (path, line), err)
        self.assertIn("does not belong to the certificate", err)
        # Not a certificate at all.
        text = self.config_text([{"cert_pem": "hello", "key_pem": read(self.a[1])}])
        rc, _, err, path = run_check(text + listener)
        self.assertEqual(rc, 1, err)
        self.assertIn("%s:3:17: tls.certificates[0].cert_pem: not a PEM certificate" % path, err)
        # Both forms in one entry.
        text = self.config_text([{"cert": self.a[0], "cert_pem": read(self.a[0]),
                                  "key": self.a[1]}])
        rc, _, err, path = run_check(text)
        self.assertEqual(rc, 1, err)
        self.assertIn("tls.certificates[0].cert_pem: cert and cert_pem", err)

    def test_expired_certificate_is_served_with_a_warning(self):
        key, crt = expired_certificate(self.d, "old.test")
        gh = Gatehouse(self.config_text([{"cert_pem": read(crt), "key_pem": read(key)}]),
                       extra_args=["--proxy-tls-listen", "127.0.0.1:0"])
        self.addCleanup(gh.cleanup)
        rec = gh.wait_log(lambda r: r.get("msg", "").startswith("certificate outside"))
        self.assertIsNotNone(rec)
        self.assertEqual(rec.get("field"), "tls.certificates[0].cert_pem")
        self.assertIn("expired on 2020-02-01", rec.get("problem"))
        self.assertIn("CN=old.test", served_subject(gh.proxy_tls_port, "old.test"))
        gh.stop_and_check(self)


class StoreMixin:
    """Helpers for a node in store mode with a proxy_tls listener."""

    def api(self, gh, method, path, body=None):
        return gh.api(method, path, body, TOKEN)

    def put_cert(self, gh, name, pair, method="POST", path="/api/v1/certificates"):
        body = {"name": name, "cert": read(pair[0]), "key": read(pair[1])}
        return self.api(gh, method, path, body)

    def wait_subject(self, gh, sni, subject):
        return wait_until(lambda: subject in served_subject(gh.proxy_tls_port, sni), timeout=10)


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class StoredCertificates(StoreMixin, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = tempfile.mkdtemp(prefix="gatehouse-tls-store-")
        cls.addClassCleanup(shutil.rmtree, cls.d, True)
        cls.pki = Pki(cls.d, "store")
        cls.default = cls.pki.issue("default", "/CN=default.test", dns=["default.test"])
        cls.shared_file = cls.pki.issue("shared-file", "/CN=shared from file", dns=["shared.test"])
        cls.api1 = cls.pki.issue("api1", "/CN=api.test one", dns=["api.test"])
        cls.api2 = cls.pki.issue("api2", "/CN=api.test two", dns=["api.test"])
        cls.wild = cls.pki.issue("wild", "/CN=wild store", dns=["*.apps.test"])
        cls.shared_store = cls.pki.issue("shared-store", "/CN=shared from store",
                                         dns=["shared.test"])
        cls.up = Upstream("S")
        cls.addClassCleanup(cls.up.stop)
        # The settings file holds the node's own certificates; the store adds more.
        settings = os.path.join(cls.d, "settings.yaml")
        with open(settings, "w") as f:
            f.write("tls:\n  certificates:\n    - {cert: %s, key: %s}\n    - {cert: %s, key: %s}\n"
                    % (cls.default + cls.shared_file))
        cls.gh = Gatehouse(None, extra_args=["--proxy-tls-listen", "127.0.0.1:0",
                                             "--settings", settings],
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)
        r = cls.gh.api("POST", "/api/v1/upstreams", {"name": "u", "targets": [cls.up.address]},
                       TOKEN)
        assert r.status == 201, r
        r = cls.gh.api("POST", "/api/v1/routes",
                       {"name": "all", "match": {"paths": ["/"]}, "upstream": "u"}, TOKEN)
        assert r.status == 201, r

    def test_1_added_replaced_deleted_without_restart(self):
        gh = self.gh
        port = gh.proxy_tls_port
        pid = gh.pid
        self.assertIn("CN=default.test", served_subject(port, "api.test"))
        r = self.put_cert(gh, "api", self.api1)
        self.assertEqual(r.status, 201, r)
        doc = r.json()
        self.assertNotIn("key", doc)
        self.assertTrue(doc["has_key"])
        self.assertEqual(doc["names"], ["api.test"])
        self.assertEqual(doc["subject"], "CN=api.test one")
        self.assertTrue(self.wait_subject(gh, "api.test", "CN=api.test one"))
        rc, status, _, err = curl(port, "api.test", "/hello", self.pki.ca_crt)
        self.assertEqual((rc, status), (0, 200), err)
        # A wildcard from the store.
        self.assertEqual(self.put_cert(gh, "wild", self.wild).status, 201)
        self.assertTrue(self.wait_subject(gh, "x.apps.test", "CN=wild store"))
        # Replaced (PUT by name): new handshakes get the new one.
        r = self.put_cert(gh, "api", self.api2, method="PUT", path="/api/v1/certificates/api")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.wait_subject(gh, "api.test", "CN=api.test two"))
        # Deleted: back to the default certificate.
        self.assertEqual(self.api(gh, "DELETE", "/api/v1/certificates/api").status, 204)
        self.assertTrue(self.wait_subject(gh, "api.test", "CN=default.test"))
        self.assertIn("CN=wild store", served_subject(port, "y.apps.test"))
        self.assertEqual(gh.pid, pid)  # never restarted

    def test_2_config_certificate_wins_equal_names(self):
        gh = self.gh
        self.assertEqual(self.put_cert(gh, "shared", self.shared_store).status, 201)
        self.assertEqual(self.put_cert(gh, "probe", self.api1).status, 201)
        self.assertTrue(self.wait_subject(gh, "api.test", "CN=api.test one"))  # reload happened
        self.assertIn("CN=shared from file", served_subject(gh.proxy_tls_port, "shared.test"))
        for n in ("shared", "probe"):
            self.assertEqual(self.api(gh, "DELETE", "/api/v1/certificates/" + n).status, 204)

    def test_3_key_sealed_at_rest_and_errors(self):
        gh = self.gh
        self.assertEqual(self.put_cert(gh, "sealed", self.api1).status, 201)
        data = b""
        for f in glob.glob(os.path.join(gh.data_dir, "**", "*"), recursive=True):
            if os.path.isfile(f) and not f.endswith("secret.key"):
                with open(f, "rb") as fh:
                    data += fh.read()
        self.assertIn(b"BEGIN CERTIFICATE", data)  # the certificate is public
        self.assertNotIn(b"PRIVATE KEY", data)
        for line in key_lines(self.api1[1]):
            self.assertNotIn(line.encode(), data)
        for path in ("/api/v1/certificates", "/api/v1/certificates/sealed", "/api/v1/audit"):
            r = self.api(gh, "GET", path)
            self.assertEqual(r.status, 200, r)
            self.assertNotIn(b"PRIVATE KEY", r.body)
            self.assertNotIn(b"gh1.", r.body)
        # A key of another certificate: 400 naming the field.
        r = self.api(gh, "POST", "/api/v1/certificates",
                     {"name": "bad", "cert": read(self.api1[0]), "key": read(self.api2[1])})
        self.assertEqual(r.status, 400, r)
        self.assertEqual((r.json()["code"], r.json()["field"]), ("key_mismatch", "key"))
        r = self.api(gh, "POST", "/api/v1/certificates",
                     {"name": "bad", "cert": "nope", "key": read(self.api2[1])})
        self.assertEqual((r.status, r.json()["field"]), (400, "cert"))
        # Expired: stored never (a config file's would be served with a warning).
        key, crt = expired_certificate(self.d, "expired.test")
        r = self.api(gh, "POST", "/api/v1/certificates",
                     {"name": "old", "cert": read(crt), "key": read(key)})
        self.assertEqual(r.status, 400, r)
        self.assertEqual((r.json()["code"], r.json()["field"]), ("certificate_expired", "cert"))
        self.assertIn("expired on 2020-02-01T00:00:00Z", r.json()["detail"])
        self.assertEqual(self.api(gh, "DELETE", "/api/v1/certificates/sealed").status, 204)


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class StoreOnlyListener(StoreMixin, unittest.TestCase):
    def test_first_certificate_through_the_api(self):
        d = tempfile.mkdtemp(prefix="gatehouse-tls-first-")
        self.addCleanup(shutil.rmtree, d, True)
        pki = Pki(d, "first")
        pair = pki.issue("first", "/CN=first.test", dns=["first.test"])
        # The listener from the settings file, which has no certificate of its own.
        settings = os.path.join(d, "settings.yaml")
        with open(settings, "w") as f:
            f.write("listeners:\n  proxy_tls: {address: \"127.0.0.1:0\"}\n")
        gh = Gatehouse(None, extra_args=["--settings", settings],
                       env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        self.addCleanup(gh.cleanup)
        rec = gh.wait_log(lambda r: r.get("msg", "").startswith("the TLS listener has no"))
        self.assertIsNotNone(rec)
        port = gh.proxy_tls_port
        self.assertEqual(served_subject(port, "first.test"), "")  # no certificate: no handshake
        self.assertEqual(self.put_cert(gh, "first", pair).status, 201)
        self.assertTrue(self.wait_subject(gh, "first.test", "CN=first.test"))
        # Restarted, it serves from the store at once.
        gh.stop()
        gh.start()
        port = gh.proxy_tls_port
        self.assertIn("CN=first.test", served_subject(port, "first.test"))
        gh.stop_and_check(self)


@unittest.skipUnless(OPENSSL and CURL, "needs the openssl and curl CLIs")
class StoredCertificatesPostgres(StoreMixin, unittest.TestCase):
    def test_certificate_added_on_one_node_served_by_another(self):
        try:
            pg = PostgresServer()
        except PostgresUnavailable as e:
            raise unittest.SkipTest(str(e))
        self.addCleanup(pg.close)
        url = pg.create_database("gatehouse_tls")
        d = tempfile.mkdtemp(prefix="gatehouse-tls-pg-")
        self.addCleanup(shutil.rmtree, d, True)
        key_file = os.path.join(d, "kek")
        with open(key_file, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        pki = Pki(d, "pg")
        pair = pki.issue("pg", "/CN=pg.test", dns=["pg.test"])
        args = ["--store", url, "--proxy-tls-listen", "127.0.0.1:0", "--secret-key-file", key_file]
        env = {"GATEHOUSE_ADMIN_TOKEN": TOKEN}
        a = Gatehouse(None, extra_args=args, env=env)
        self.addCleanup(a.cleanup)
        b = Gatehouse(None, extra_args=args, env=env)
        self.addCleanup(b.cleanup)
        self.assertEqual(self.put_cert(a, "pg", pair).status, 201)
        self.assertTrue(self.wait_subject(b, "pg.test", "CN=pg.test"))
        r = self.api(b, "GET", "/api/v1/certificates/pg")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["subject"], "CN=pg.test")
        self.assertEqual(self.api(b, "DELETE", "/api/v1/certificates/pg").status, 204)
        self.assertTrue(wait_until(lambda: served_subject(a.proxy_tls_port, "pg.test") == "",
                                   timeout=10))


@unittest.skipUnless(OPENSSL and os.path.exists("/usr/sbin/nginx"), "needs openssl and nginx")
class HealthChecksOverTls(unittest.TestCase):
    """Two TLS targets (Debian nginx): one whose certificate verifies, one
    signed by a CA the upstream does not trust. Probes speak TLS with the
    upstream's settings, so only the second is marked down, with the reason
    in the log, and traffic goes to the first."""

    def test_unverifiable_target_is_marked_down(self):
        d = tempfile.mkdtemp(prefix="gatehouse-tls-hc-")
        os.chmod(d, 0o755)
        self.addCleanup(shutil.rmtree, d, True)
        good_ca, bad_ca = Pki(d, "good"), Pki(d, "rogue")
        crt, key = good_ca.issue("good", "/CN=upstream.test", dns=["upstream.test"])
        rcrt, rkey = bad_ca.issue("rogue", "/CN=upstream.test", dns=["upstream.test"])
        gw = good_ca.issue("gw", "/CN=gateway", client=True)
        good = Nginx(tls={"cert": crt, "key": key, "client_ca": good_ca.ca_crt})
        self.addCleanup(good.cleanup)
        rogue = Nginx(tls={"cert": rcrt, "key": rkey})
        self.addCleanup(rogue.cleanup)
        cfg = {"upstreams": [{
            "name": "ng", "targets": [good.tls_address, rogue.tls_address],
            "retries": {"attempts": 0},
            "tls": {"sni": "upstream.test", "ca_file": good_ca.ca_crt,
                    "client_cert": gw[0], "client_key": gw[1]},
            "health_checks": {"passive": {"enabled": False},
                              "active": {"path": "/nginx/ok", "interval": "200ms",
                                         "timeout": "2s", "healthy_threshold": 1,
                                         "unhealthy_threshold": 2}}}],
            "routes": [{"name": "all", "match": {"paths": ["/"]}, "upstream": "ng"}]}
        gh = Gatehouse(cfg)
        self.addCleanup(gh.cleanup)
        rec = gh.wait_log(lambda r: r.get("msg") == "target unhealthy", timeout=20)
        self.assertIsNotNone(rec)
        self.assertEqual(rec.get("target"), rogue.tls_address)
        self.assertIn("TLS handshake failed: certificate verify failed", rec.get("reason", ""))
        # Every request now goes to the verified target, over mTLS.
        for _ in range(6):
            r = gh.request("GET", "/nginx/tls")
            self.assertEqual(r.status, 200, r)
            self.assertIn(b"client=CN=gateway verify=SUCCESS", r.body)
        # The good target was probed as often and never marked down: its probes speak TLS.
        self.assertFalse([l for l in gh.log_records() if l.get("msg") == "target unhealthy"
                          and l.get("target") == good.tls_address])
        gh.stop_and_check(self)


if __name__ == "__main__":
    unittest.main()
