#!/usr/bin/env python3
"""LLM providers and models through the admin API in store mode (issue 6):
a provider, a model, a consumer and an AI route created over /api/v1, then
the official `openai` npm client (tests/node/openai_chat.mjs) calls through
Gatehouse to a fake OpenAI provider that sees the stored key. The key never
appears in an admin response, the audit log or the SQLite files (read raw);
a PATCH changes it without a restart; key rotation (new key first in
--secret-key-file, POST /api/v1/llm/rekey, old key dropped) survives
restarts; a start without the key is refused with a clear error.
"""

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

from harness import Gatehouse, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
HAVE_SDK = (shutil.which("node") is not None and
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "openai")))

TOKEN = "it-admin-token-ai-keys-0123456789"
SECRET = "sk-proj-PLAINTEXT-never-leaves-0001wxyz"
SECRET2 = "sk-proj-ROTATED-plaintext-key-0002abcd"


def chat(base, key, model):
    p = subprocess.run(["node", os.path.join(NODE_DIR, "openai_chat.mjs"), base, key, model],
                       capture_output=True, text=True, timeout=60)
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise AssertionError("no JSON: rc=%s stdout=%r stderr=%r" % (p.returncode, p.stdout,
                                                                     p.stderr))
    return json.loads(lines[-1])


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class AiAdmin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM("openai")
        cls.addClassCleanup(cls.fake.stop)
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-aikeys-")
        cls.key_file = os.path.join(cls.tmp, "kek")
        cls.old_key = new_key()
        with open(cls.key_file, "w") as f:
            f.write(cls.old_key + "\n")
        cls.gh = Gatehouse(None, tmpdir=cls.tmp, extra_args=["--secret-key-file", cls.key_file],
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    def api(self, method, path, body=None):
        return self.gh.api(method, path, body, TOKEN)

    def ok(self, resp, status=200):
        self.assertEqual(resp.status, status, resp)
        return resp.json() if resp.body else None

    def base(self):
        return "http://127.0.0.1:%d/v1" % self.gh.proxy_port

    def db_bytes(self):
        data = b""
        for f in glob.glob(os.path.join(self.gh.data_dir, "**", "*"), recursive=True):
            if os.path.isfile(f) and not f.endswith("secret.key"):
                with open(f, "rb") as fh:
                    data += fh.read()
        return data

    def assert_no_secret(self, text, *secrets):
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(s[:-4], text)  # not even without its shown tail

    def call_ok(self, want_key):
        self.fake.take()
        r = chat(self.base(), "alice-key", "smart")
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["content"], self.fake.reply)
        reqs = self.fake.take()
        self.assertEqual(len(reqs), 1, reqs)
        self.assertEqual(reqs[0]["headers"].get("authorization"), "Bearer " + want_key)
        self.assertEqual(reqs[0]["body"]["model"], "gpt-4o-mini")

    def test_provider_keys_end_to_end(self):
        try:
            self.provider_keys_end_to_end()
        except BaseException:
            print("gatehouse stderr tail:\n" + self.gh.stderr_text()[-6000:], file=sys.stderr)
            raise

    def provider_keys_end_to_end(self):
        p = self.ok(self.api("POST", "/api/v1/llm/providers", {
            "name": "oa", "kind": "openai", "base_url": self.fake.base_url, "api_key": SECRET}), 201)
        self.assertEqual(p["api_key"], "****wxyz")
        self.assertTrue(p["has_api_key"])
        # Precise errors: an unknown provider, with the field path.
        bad = self.api("POST", "/api/v1/llm/models",
                       {"name": "smart", "targets": [{"provider": "oai", "model": "gpt-4o-mini"}]})
        self.assertEqual(bad.status, 400, bad)
        self.assertEqual(bad.json()["code"], "unknown_provider")
        self.assertEqual(bad.json()["field"], "targets[0].provider")
        self.ok(self.api("POST", "/api/v1/llm/models", {
            "name": "smart", "targets": [{"provider": "oa", "model": "gpt-4o-mini"}]}), 201)
        self.ok(self.api("POST", "/api/v1/consumers", {
            "name": "alice", "credentials": [{"type": "key-auth", "key": "alice-key"}]}), 201)
        self.ok(self.api("POST", "/api/v1/routes", {
            "name": "ai", "match": {"paths": ["/v1/"]}, "llm": {"models": ["smart"]},
            "policies": [{"name": "key-auth", "config": {"key_names": ["authorization"]}}]}), 201)
        # Committed changes reach the data plane without a restart.
        wait_until(lambda: self.gh.request("GET", "/v1/models",
                                           headers={"Authorization": "Bearer alice-key"}).status == 200)
        self.call_ok(SECRET)

        # In use: the provider cannot go while the model names it.
        d = self.api("DELETE", "/api/v1/llm/providers/oa")
        self.assertEqual(d.status, 409, d)
        self.assertEqual(d.json()["code"], "in_use")

        # Never shown: responses, lists, audit, the database files.
        seen = ""
        for path in ("/api/v1/llm/providers", "/api/v1/llm/providers/oa",
                     "/api/v1/audit?limit=100", "/api/v1/llm/models"):
            body = self.ok(self.api("GET", path))
            seen += json.dumps(body)
        self.assert_no_secret(seen, SECRET)
        self.assertIn("****wxyz", seen)
        self.assertNotIn("gh1.", seen)  # not even the ciphertext
        self.assert_no_secret(self.db_bytes().decode("latin-1"), SECRET)

        # PATCH sets a new key; the next call uses it.
        p = self.ok(self.api("PATCH", "/api/v1/llm/providers/oa", {"api_key": SECRET2}))
        self.assertEqual(p["api_key"], "****abcd")
        self.fake.take()

        def uses_new_key():
            r = chat(self.base(), "alice-key", "smart")
            reqs = self.fake.take()
            return r["ok"] and reqs and reqs[-1]["headers"].get("authorization") == "Bearer " + SECRET2
        self.assertTrue(wait_until(uses_new_key, timeout=15))
        self.assert_no_secret(self.db_bytes().decode("latin-1"), SECRET, SECRET2)

        # Rotation: the new key first, the old one still readable; rekey; then
        # the old key is dropped and a restart still serves.
        fresh = new_key()
        with open(self.key_file, "w") as f:
            f.write("# current first\n%s\n%s\n" % (fresh, self.old_key))
        self.assertEqual(self.gh.stop(), 0)
        self.gh.start()
        r = self.ok(self.api("POST", "/api/v1/llm/rekey"))
        self.assertEqual(r["resealed"], 1)
        with open(self.key_file, "w") as f:
            f.write(fresh + "\n")
        self.assertEqual(self.gh.stop(), 0)
        self.gh.start()
        self.call_ok(SECRET2)

        # The old key alone cannot open the store: a clear error at start.
        with open(self.key_file, "w") as f:
            f.write(self.old_key + "\n")
        self.assertEqual(self.gh.stop(), 0)
        with self.assertRaises(RuntimeError) as cm:
            self.gh.start()
        self.assertIn("secret_key_missing", str(cm.exception))
        self.assertIn("sealed under key id", str(cm.exception))
        # No key at all (no flag, no env, no generated file): refused too.
        self.gh.extra_args = []
        with self.assertRaises(RuntimeError) as cm:
            self.gh.start()
        self.assertIn("no key-encryption key was given", str(cm.exception))
        self.assertFalse(os.path.exists(os.path.join(self.gh.data_dir, "secret.key")))
        # Back with the right key.
        with open(self.key_file, "w") as f:
            f.write(fresh + "\n")
        self.gh.extra_args = ["--secret-key-file", self.key_file]
        self.gh.start()
        self.call_ok(SECRET2)
        self.assertEqual(self.gh.stop(), 0)
        for line in self.gh.stderr_lines:
            self.assert_no_secret(line, SECRET, SECRET2)


@unittest.skipUnless(HAVE_SDK, "node and tests/node/node_modules needed (scripts/bootstrap)")
class SettingsProviders(unittest.TestCase):
    """Settings-file providers serve and are listed read-only; a stored model
    may target one; the embedded default generates its key file."""

    def test_settings_providers_read_only_and_generated_key(self):
        fake = FakeLLM("openai")
        self.addCleanup(fake.stop)
        tmp = tempfile.mkdtemp(prefix="gatehouse-aikeys-settings-")
        settings = os.path.join(tmp, "settings.yaml")
        with open(settings, "w") as f:
            f.write("llm:\n  providers:\n    - {name: file-oa, kind: openai, base_url: \"%s\", "
                    "api_key: \"${GH_IT_FILE_KEY}\"}\n" % fake.base_url)
        gh = Gatehouse(None, tmpdir=tmp, extra_args=["--settings", settings],
                       env={"GATEHOUSE_ADMIN_TOKEN": TOKEN, "GH_IT_FILE_KEY": SECRET})
        self.addCleanup(gh.cleanup)
        self.assertTrue(os.path.exists(os.path.join(gh.data_dir, "secret.key")))
        self.assertTrue(gh.wait_log(lambda r: "secret.key" in str(r.get("msg", ""))))
        items = gh.api("GET", "/api/v1/llm/providers", None, TOKEN).json()["items"]
        self.assertEqual([(i["name"], i["origin"], i["api_key"]) for i in items],
                         [("file-oa", "settings", "****wxyz")])
        r = gh.api("DELETE", "/api/v1/llm/providers/file-oa", None, TOKEN)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json()["code"], "managed_by_settings")
        for path, body in (("/api/v1/llm/models", {"name": "smart", "targets": [
                {"provider": "file-oa", "model": "gpt-4o-mini"}]}),
                           ("/api/v1/consumers", {"name": "alice", "credentials": [
                               {"type": "key-auth", "key": "alice-key"}]}),
                           ("/api/v1/routes", {"name": "ai", "match": {"paths": ["/v1/"]},
                                               "llm": {"models": ["smart"]}, "policies": [
                                   {"name": "key-auth", "config": {"key_names": ["authorization"]}}]})):
            resp = gh.api("POST", path, body, TOKEN)
            self.assertEqual(resp.status, 201, resp)
        base = "http://127.0.0.1:%d/v1" % gh.proxy_port

        def served():
            return chat(base, "alice-key", "smart")["ok"]
        self.assertTrue(wait_until(served, timeout=15))
        self.assertEqual(fake.take()[-1]["headers"]["authorization"], "Bearer " + SECRET)
        self.assertEqual(gh.stop(), 0)


if __name__ == "__main__":
    unittest.main()
