#!/usr/bin/env python3
"""basic-auth, jwt and hmac-auth through the real binary: 401s with their
challenges, success, the consumer in the access log, and credentials kept
away from the upstream (its /echo shows what reached it).

JWTs are signed here: HS256 with hmac, RS256 and EdDSA with the openssl CLI
(the standard library has no public-key signing)."""

import base64
import email.utils
import hashlib
import hmac
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, check_problem, run_check  # noqa: E402
from upstream import Upstream  # noqa: E402

JWT_SECRET = "alice-jwt-secret-of-32-bytes-or-more"
HMAC_SECRET = "alice-hmac-secret"
BOB_SALT = b"bob-salt-16bytes"
BOB_HASH = "pbkdf2-sha256$1000$%s$%s" % (
    base64.b64encode(BOB_SALT).decode(),
    base64.b64encode(hashlib.pbkdf2_hmac("sha256", b"hunter2", BOB_SALT, 1000)).decode())


def b64u(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Keys:
    """An RSA and an Ed25519 key pair made with the openssl CLI."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gatehouse-auth-keys-")
        self.rsa = os.path.join(self.dir, "rsa.pem")
        self.ed = os.path.join(self.dir, "ed.pem")
        self._openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                      "-out", self.rsa)
        self._openssl("genpkey", "-algorithm", "ED25519", "-out", self.ed)
        self.rsa_public_pem = self._openssl("pkey", "-in", self.rsa, "-pubout").decode()
        der = self._openssl("pkey", "-in", self.ed, "-pubout", "-outform", "DER")
        self.ed_x = b64u(der[-32:])  # SubjectPublicKeyInfo ends with the raw 32-byte key

    def _openssl(self, *args, data=None):
        return subprocess.run(["openssl"] + list(args), input=data, capture_output=True,
                              check=True).stdout

    def sign_rs256(self, data):
        return self._openssl("dgst", "-sha256", "-sign", self.rsa, data=data)

    def sign_ed25519(self, data):
        path = os.path.join(self.dir, "input")
        with open(path, "wb") as f:
            f.write(data)
        return self._openssl("pkeyutl", "-sign", "-inkey", self.ed, "-rawin", "-in", path)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def make_jwt(header, claims, sign):
    signing_input = (b64u(json.dumps(header)) + "." + b64u(json.dumps(claims))).encode()
    return signing_input.decode() + "." + b64u(sign(signing_input))


def hs256(data):
    return hmac.new(JWT_SECRET.encode(), data, hashlib.sha256).digest()


def indent(text, n):
    return "\n".join(" " * n + line for line in text.strip("\n").split("\n"))


CONFIG = """\
upstreams:
  - name: svc
    targets: [{{address: "{up}", weight: 1}}]
consumers:
  - name: alice
    credentials:
      - {{type: basic-auth, username: alice, password: "s3cret"}}
      - {{type: jwt, key: "https://alice.example", algorithm: HS256, secret: "{jwt_secret}"}}
      - {{type: hmac-auth, username: alice, secret: "{hmac_secret}"}}
  - name: bob
    credentials:
      - {{type: basic-auth, username: bob, password_hash: "{bob_hash}"}}
  - name: carol
  - name: guest
routes:
  - name: basic
    upstream: svc
    match: {{paths: ["/basic"]}}
    policies:
      - {{name: basic-auth, config: {{realm: "orders"}}}}
  - name: basic-anon
    upstream: svc
    match: {{paths: ["/anon"]}}
    policies:
      - {{name: basic-auth, config: {{anonymous: guest, hide_credentials: false}}}}
  - name: jwt
    upstream: svc
    match: {{paths: ["/jwt"]}}
    policies:
      - name: jwt
        config:
          query_names: [access_token]
          consumer_claim: sub
          issuers: ["https://alice.example", "https://idp.example"]
          audiences: [orders]
          keys:
            - kid: idp-rsa
              algorithm: RS256
              public_key: |
{rsa_pem}
          jwks: '{{"keys": [{{"kty": "OKP", "crv": "Ed25519", "kid": "idp-ed", "x": "{ed_x}"}}]}}'
      - name: request-transformer
        config:
          headers: {{set: {{X-Jwt-Sub: "$(var.jwt.sub)"}}}}
  - name: multi
    upstream: svc
    match: {{paths: ["/multi"]}}
    policies:
      - {{name: basic-auth, config: {{anonymous: guest}}}}
      - {{name: jwt, config: {{anonymous: guest}}}}
      - {{name: hmac-auth, config: {{anonymous: guest}}}}
  - name: hmac
    upstream: svc
    match: {{paths: ["/hmac"]}}
    policies:
      - {{name: hmac-auth, config: {{enforce_headers: [request-line], clock_skew: 60s}}}}
"""


def echo_headers(doc, name):
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


class PoliciesAuth(unittest.TestCase):
    ids = itertools.count()

    @classmethod
    def setUpClass(cls):
        cls.keys = Keys()
        cls.addClassCleanup(cls.keys.cleanup)
        cls.up = Upstream("A")
        cls.addClassCleanup(cls.up.stop)
        cls.gh = Gatehouse(CONFIG.format(
            up=cls.up.address, jwt_secret=JWT_SECRET, hmac_secret=HMAC_SECRET, bob_hash=BOB_HASH,
            rsa_pem=indent(cls.keys.rsa_public_pem, 16), ed_x=cls.keys.ed_x))
        cls.addClassCleanup(cls.gh.cleanup)

    @classmethod
    def tearDownClass(cls):
        cls.gh.stop_and_check()

    def send(self, path, headers=None, method="GET"):
        """-> (response, request id)"""
        rid = "auth-%06d" % next(self.ids)
        h = {"X-Request-Id": rid}
        h.update(headers or {})
        return self.gh.request(method, path, headers=h), rid

    def ok(self, path, headers=None, consumer=None):
        r, rid = self.send(path, headers)
        self.assertEqual(r.status, 200, r)
        if consumer is not None:
            rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
            self.assertIsNotNone(rec, "no access-log record for " + rid)
            self.assertEqual(rec.get("consumer"), consumer, rec)
        return r.json()

    def denied(self, path, headers, code, challenge_prefix):
        r, rid = self.send(path, headers)
        doc = check_problem(self, r, 401, code)
        self.assertTrue((r.header("WWW-Authenticate") or "").startswith(challenge_prefix),
                        r.headers)
        rec = self.gh.wait_access(lambda x: x.get("request_id") == rid)
        self.assertIsNotNone(rec)
        self.assertEqual(rec.get("status"), 401, rec)
        self.assertNotIn("consumer", rec)
        return doc

    # ------------------------------------------------------------ basic-auth

    @staticmethod
    def basic(user_pass):
        return {"Authorization": "Basic " + base64.b64encode(user_pass.encode()).decode()}

    def test_basic_success_hides_credentials(self):
        for _ in range(3):  # later requests take the verified-pair cache
            doc = self.ok("/basic/orders", self.basic("alice:s3cret"), consumer="alice")
            self.assertEqual(echo_headers(doc, "Authorization"), [])
        doc = self.ok("/basic", self.basic("bob:hunter2"), consumer="bob")
        self.assertEqual(echo_headers(doc, "Authorization"), [])

    def test_basic_failures(self):
        challenge = 'Basic realm="orders", charset="UTF-8"'
        r, _ = self.send("/basic")
        self.assertEqual(r.header("WWW-Authenticate"), challenge)
        self.denied("/basic", {}, "missing_credentials", challenge)
        self.denied("/basic", {"Authorization": "Bearer x.y.z"}, "missing_credentials", challenge)
        for bad in ("alice:wrong", "mallory:s3cret", "bob:hunter3", "alice"):
            self.denied("/basic", self.basic(bad), "invalid_credentials", challenge)

    def test_basic_anonymous_and_kept_header(self):
        doc = self.ok("/anon", {}, consumer="guest")
        doc = self.ok("/anon", self.basic("alice:s3cret"), consumer="alice")
        self.assertEqual(len(echo_headers(doc, "Authorization")), 1)  # hide_credentials: false
        self.denied("/anon", self.basic("alice:nope"), "invalid_credentials", "Basic ")

    # ------------------------------------------------------------------- jwt

    def claims(self, **extra):
        now = int(time.time())
        c = {"iss": "https://idp.example", "sub": "carol", "aud": "orders", "iat": now,
             "exp": now + 300}
        c.update(extra)
        return c

    def test_jwt_consumer_secret(self):
        token = make_jwt({"alg": "HS256", "typ": "JWT"},
                         self.claims(iss="https://alice.example", sub="someone"), hs256)
        doc = self.ok("/jwt", {"Authorization": "Bearer " + token}, consumer="alice")
        self.assertEqual(echo_headers(doc, "Authorization"), [])
        # Verified claims reach later policies: request-transformer reads var.jwt.sub.
        self.assertEqual(echo_headers(doc, "X-Jwt-Sub"), ["someone"])

    def test_jwt_policy_keys_and_consumer_claim(self):
        rs = make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(), self.keys.sign_rs256)
        doc = self.ok("/jwt", {"Authorization": "Bearer " + rs}, consumer="carol")
        self.assertEqual(echo_headers(doc, "X-Jwt-Sub"), ["carol"])
        ed = make_jwt({"alg": "EdDSA", "kid": "idp-ed"}, self.claims(aud=["web", "orders"]),
                      self.keys.sign_ed25519)
        self.ok("/jwt", {"Authorization": "Bearer " + ed}, consumer="carol")

    def test_jwt_from_query_is_removed(self):
        rs = make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(), self.keys.sign_rs256)
        doc = self.ok("/jwt/x?a=1&access_token=" + rs + "&b=2", {}, consumer="carol")
        self.assertEqual(doc["path"], "/jwt/x?a=1&b=2")

    def test_jwt_failures(self):
        self.denied("/jwt", {}, "missing_token", 'Bearer realm="gatehouse"')
        r, _ = self.send("/jwt")
        self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="gatehouse"')
        k = self.keys
        cases = [
            ("abc.def", "malformed"),
            (make_jwt({"alg": "none"}, self.claims(), lambda d: b""), "unsupported_alg"),
            # An HS256 token "signed" with the RSA public key must not pass as RS256.
            (make_jwt({"alg": "HS256", "kid": "idp-rsa"}, self.claims(),
                      lambda d: hmac.new(k.rsa_public_pem.encode(), d, hashlib.sha256).digest()),
             "unsupported_alg"),
            (make_jwt({"alg": "RS256", "kid": "other"}, self.claims(), k.sign_rs256), "unknown_key"),
            (make_jwt({"alg": "EdDSA", "kid": "idp-rsa"}, self.claims(), k.sign_ed25519),
             "unsupported_alg"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(),
                      lambda d: k.sign_rs256(d + b"x")), "bad_signature"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"},
                      self.claims(exp=int(time.time()) - 3600), k.sign_rs256), "expired"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"},
                      self.claims(nbf=int(time.time()) + 3600), k.sign_rs256), "not_yet_valid"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(iss="https://evil"),
                      k.sign_rs256), "wrong_issuer"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(aud="billing"),
                      k.sign_rs256), "wrong_audience"),
            (make_jwt({"alg": "RS256", "kid": "idp-rsa"}, self.claims(sub="dave"),
                      k.sign_rs256), "unknown_consumer"),
        ]
        for token, reason in cases:
            doc = self.denied("/jwt", {"Authorization": "Bearer " + token}, "invalid_token",
                              'Bearer realm="gatehouse", error="invalid_token", '
                              'error_description="' + reason + ":")
            self.assertTrue(doc["detail"].startswith(reason + ":"), doc)

    # ------------------------------------------------------------- hmac-auth

    def hmac_headers(self, path, user="alice", secret=HMAC_SECRET, date=None,
                     signed="date request-line x-foo", method="GET"):
        date = date or email.utils.formatdate(usegmt=True)
        lines = []
        values = {"date": date, "x-foo": "bar"}
        for name in signed.split():
            if name == "request-line":
                lines.append("%s %s HTTP/1.1" % (method, path))
            else:
                lines.append("%s: %s" % (name, values[name]))
        sig = base64.b64encode(hmac.new(secret.encode(), "\n".join(lines).encode(),
                                        hashlib.sha256).digest()).decode()
        return {"Date": date, "X-Foo": "bar",
                "Authorization": 'hmac username="%s", algorithm="hmac-sha256", headers="%s", '
                                 'signature="%s"' % (user, signed, sig)}

    def test_hmac_success_hides_credentials(self):
        doc = self.ok("/hmac/a?b=c", self.hmac_headers("/hmac/a?b=c"), consumer="alice")
        self.assertEqual(echo_headers(doc, "Authorization"), [])
        self.assertEqual(len(echo_headers(doc, "Date")), 1)

    def test_hmac_failures(self):
        c = 'hmac realm="gatehouse"'
        self.denied("/hmac", {}, "missing_credentials", c)
        self.denied("/hmac", self.basic("alice:s3cret"), "missing_credentials", c)
        old = email.utils.formatdate(time.time() - 3600, usegmt=True)
        for headers, reason in [
            (self.hmac_headers("/hmac", secret="wrong"), "bad_signature"),
            (self.hmac_headers("/hmac", user="mallory"), "bad_signature"),
            (self.hmac_headers("/hmac/other"), "bad_signature"),  # signed another path
            (self.hmac_headers("/hmac", date=old), "clock_skew"),
            (self.hmac_headers("/hmac", signed="date x-foo"), "header_not_signed"),
            (self.hmac_headers("/hmac", signed="request-line x-foo"), "header_not_signed"),
            ({"Authorization": 'hmac username="alice"'}, "malformed"),
        ]:
            doc = self.denied("/hmac", headers, "invalid_credentials", c)
            self.assertTrue(doc["detail"].startswith(reason + ":"), (reason, doc))

    # ----------------------------------------------------- several methods

    def test_several_methods_on_one_route(self):
        token = make_jwt({"alg": "HS256"}, self.claims(iss="https://alice.example"), hs256)
        for headers in (self.basic("alice:s3cret"), {"Authorization": "Bearer " + token},
                        self.hmac_headers("/multi", signed="date request-line")):
            doc = self.ok("/multi", headers, consumer="alice")
            self.assertEqual(echo_headers(doc, "Authorization"), [])
        self.ok("/multi", {}, consumer="guest")
        self.denied("/multi", self.basic("alice:nope"), "invalid_credentials", "Basic ")
        self.denied("/multi", {"Authorization": "Bearer " + token + "x"}, "invalid_token",
                    "Bearer ")

    # ---------------------------------------------------------------- config

    def test_bad_configs_are_rejected_by_check(self):
        base = ("upstreams:\n  - {name: s, targets: [{address: \"127.0.0.1:9\"}]}\n"
                "consumers:\n  - name: a\n    credentials: [%s]\n"
                "routes:\n  - name: r\n    upstream: s\n    match: {paths: [/]}\n"
                "    policies: [{name: %s, config: %s}]\n")
        for cred, policy, config, field in [
            ("{type: jwt, key: k, secret: short}", "jwt", "{}",
             "consumers[0].credentials[0].secret"),
            ("{type: basic-auth, username: a}", "basic-auth", "{}", "consumers[0].credentials[0]"),
            ("{type: key-auth, key: k}", "jwt", "{algorithm: HS256}",
             "routes[0].policies[0].config.algorithm"),
            ("{type: key-auth, key: k}", "hmac-auth", "{algorithms: [hmac-md5]}",
             "routes[0].policies[0].config.algorithms"),
            ("{type: key-auth, key: k}", "basic-auth", "{pbkdf2_iterations: 5}",
             "routes[0].policies[0].config.pbkdf2_iterations"),
        ]:
            rc, out, err, _ = run_check(base % (cred, policy, config))
            self.assertNotEqual(rc, 0, out + err)
            self.assertIn(field, out + err)


if __name__ == "__main__":
    unittest.main()
