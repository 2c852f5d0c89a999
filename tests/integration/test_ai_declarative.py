#!/usr/bin/env python3
"""`llm` in declarative sync (issue 6): LLM providers and models travel with
the rest of the config through PUT/GET /api/v1/config and `gatehouse
apply/export/diff`, on SQLite and on a real PostgreSQL.

An applied model serves a real chat call (raw HTTP, OpenAI format) through a
fake OpenAI provider that sees the applied key, without a restart. Keys are
sealed on the way in: never in an admin response, an export, a diff or the
database file (read raw); exports carry the sealed form (or the mask, or the
${VAR} reference as written) and apply back with no change and no new
revision. Errors name the document path (and file:line:column for files) and
leave the store untouched; --owner manages only its own providers.
"""

import base64
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, gatehouse_bin, wait_until  # noqa: E402
from fake_llm import FakeLLM  # noqa: E402
from pg import PostgresServer, PostgresUnavailable  # noqa: E402

TOKEN = "it-admin-token-ai-declarative-0123"
SECRET = "sk-proj-DECLARATIVE-plaintext-0001wxyz"
SECRET2 = "sk-proj-CLIAPPLIED-plaintext-0002abcd"
SECRET3 = "sk-proj-ROTATEDCLI-plaintext-0003efgh"


def new_key():
    return base64.b64encode(os.urandom(32)).decode()


def config_yaml(base_url, key, provider="oa", model="gpt-4o-mini"):
    return """consumers:
  - name: alice
    credentials: [{type: key-auth, key: alice-key}]
routes:
  - name: ai
    match: {paths: [/v1/]}
    llm: {models: [smart]}
    policies: [{name: key-auth, config: {key_names: [authorization]}}]
llm:
  providers:
    - name: %s
      kind: openai
      base_url: "%s"
      api_key: "%s"
  models:
    - name: smart
      targets: [{provider: %s, model: %s}]
""" % (provider, base_url, key, provider, model)


def run_cli(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([gatehouse_bin()] + list(args), capture_output=True, text=True,
                       timeout=60, env=e)
    return p.returncode, p.stdout, p.stderr


class Base(unittest.TestCase):
    gh = None
    fake = None

    def api(self, method, path, body=None, headers=None):
        return self.gh.api(method, path, body, TOKEN, headers)

    def ok(self, resp, status=200):
        self.assertEqual(resp.status, status, resp)
        return resp.json() if resp.body else None

    def revision(self):
        return self.ok(self.api("GET", "/api/v1/status"))["revision"]

    def chat(self):
        body = json.dumps({"model": "smart", "messages": [{"role": "user", "content": "hi"}]})
        return self.gh.request("POST", "/v1/chat/completions",
                               headers={"Authorization": "Bearer alice-key",
                                        "Content-Type": "application/json"},
                               body=body.encode())

    def served_with(self, key, model):
        """Waits until a chat call reaches the fake with this key and model."""
        def once():
            self.fake.take()
            r = self.chat()
            if r.status != 200:
                return False
            reqs = self.fake.take()
            return (bool(reqs) and reqs[-1]["headers"].get("authorization") == "Bearer " + key
                    and reqs[-1]["body"]["model"] == model
                    and r.json()["choices"][0]["message"]["content"] == self.fake.reply)
        self.assertTrue(wait_until(once, timeout=15), "no call with %s/%s" % (key[-4:], model))

    def assert_no_secret(self, text, *secrets):
        for s in secrets:
            self.assertNotIn(s, text)
            self.assertNotIn(s[:-4], text)  # not even without its shown tail


class AiDeclarativeSqlite(Base):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM("openai")
        cls.addClassCleanup(cls.fake.stop)
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-aidecl-")
        cls.key_file = os.path.join(cls.tmp, "kek")
        with open(cls.key_file, "w") as f:
            f.write(new_key() + "\n")
        cls.gh = Gatehouse(None, tmpdir=cls.tmp, extra_args=["--secret-key-file", cls.key_file],
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    def cli(self, *args, env=None):
        return run_cli(*args, "--data-dir", self.gh.data_dir, "--secret-key-file", self.key_file,
                       env=env)

    def db_text(self):
        data = b""
        for f in glob.glob(os.path.join(self.gh.data_dir, "**", "*"), recursive=True):
            if os.path.isfile(f) and not f.endswith("secret.key"):
                with open(f, "rb") as fh:
                    data += fh.read()
        return data.decode("latin-1")

    def test_1_put_and_get_config(self):
        doc = config_yaml(self.fake.base_url, SECRET)
        yaml_ct = {"Content-Type": "application/yaml"}
        rev = self.revision()
        res = self.ok(self.api("PUT", "/api/v1/config", doc, yaml_ct))
        self.assertEqual(res["revision"], rev + 1)  # one plan, one revision
        kinds = sorted((c["kind"], c["name"]) for c in res["changes"])
        self.assertEqual(kinds, [("consumer", "alice"), ("llm_model", "smart"),
                                 ("llm_provider", "oa"), ("route", "ai")])
        self.served_with(SECRET, "gpt-4o-mini")  # the applied config serves, no restart
        rev = self.revision()

        # GET -> PUT (sealed for an admin, in JSON and YAML): no change. The
        # masked form keeps the key too, but credentials redacted without ids
        # do not round-trip (unit tests cover the masked provider).
        masked = self.api("GET", "/api/v1/config")
        self.assertEqual(masked.json()["llm"]["providers"][0]["api_key"], "****wxyz")
        sealed_json = self.api("GET", "/api/v1/config?secrets=true")
        sealed = self.api("GET", "/api/v1/config?secrets=true&format=yaml")
        self.assertIn(b"gh1.", sealed.body)
        self.assertTrue(sealed_json.json()["llm"]["providers"][0]["api_key"]["sealed"]
                        .startswith("gh1."))
        seen = masked.body.decode() + sealed.body.decode() + sealed_json.body.decode()
        for body, headers in ((sealed_json.body, {"Content-Type": "application/json"}),
                              (sealed.body, yaml_ct), (doc.encode(), yaml_ct)):
            again = self.ok(self.api("PUT", "/api/v1/config", body, headers))
            self.assertEqual(again["changes"], [], body)
            self.assertEqual(again["revision"], rev)
        self.assertEqual(self.revision(), rev)

        # A changed key: the diff says so without showing it.
        dry = self.api("PUT", "/api/v1/config?dry_run=true",
                       config_yaml(self.fake.base_url, SECRET2), yaml_ct)
        self.assertEqual(dry.json()["changes"], [{"action": "update", "kind": "llm_provider",
                                                  "name": "oa",
                                                  "changes": ["api_key: (secret changed)"]}])
        seen += dry.body.decode()
        # A model naming a provider the document deletes: 400, nothing changed.
        bad = config_yaml(self.fake.base_url, SECRET).replace("provider: oa", "provider: gone")
        r = self.api("PUT", "/api/v1/config", bad, yaml_ct)
        self.assertEqual(r.status, 400, r)
        self.assertEqual((r.json()["code"], r.json()["field"]),
                         ("unknown_provider", "llm.models[0].targets[0].provider"))
        self.assertEqual(self.revision(), rev)
        self.assert_no_secret(seen, SECRET, SECRET2)
        self.assert_no_secret(self.db_text(), SECRET, SECRET2)

    def test_2_cli_apply_export_diff(self):
        path = os.path.join(self.tmp, "llm.yaml")
        with open(path, "w") as f:
            # ${VAR} is expanded by the CLI (the caller's environment) and sealed.
            f.write(config_yaml(self.fake.base_url, "${GH_IT_DECL_KEY}", provider="cli-oa",
                                model="gpt-4.1-mini"))
        env = {"GH_IT_DECL_KEY": SECRET2}
        rc, so, err = self.cli("apply", "-f", path, env=env)
        self.assertEqual(rc, 0, so + err)
        self.assertIn("+ llm_provider cli-oa", so)
        self.assertIn("- llm_provider oa", so)
        self.served_with(SECRET2, "gpt-4.1-mini")
        rev = self.revision()
        out = so + err
        for cmd in ("apply", "diff"):
            rc, so, err = self.cli(cmd, "-f", path, env=env)
            self.assertEqual(rc, 0, so + err)
            self.assertIn("no changes", so)
            out += so + err
        self.assertEqual(self.revision(), rev)

        exported = os.path.join(self.tmp, "export.yaml")
        rc, so, err = self.cli("export", "-o", exported)
        self.assertEqual(rc, 0, err)
        with open(exported) as f:
            text = f.read()
        self.assertIn("sealed: gh1.", text)
        out += text
        for cmd in ("diff", "apply"):
            rc, so, err = self.cli(cmd, "-f", exported)
            self.assertEqual(rc, 0, so + err)
            self.assertIn("no changes", so)
        self.assertEqual(self.revision(), rev)

        # A new key in the caller's environment: diff masks it, apply uses it.
        rc, so, err = self.cli("diff", "-f", path, env={"GH_IT_DECL_KEY": SECRET3})
        self.assertEqual(rc, 1, so + err)
        self.assertIn("~ llm_provider cli-oa\n    api_key: (secret changed)", so)
        out += so + err
        rc, so, err = self.cli("apply", "-f", path, env={"GH_IT_DECL_KEY": SECRET3})
        self.assertEqual(rc, 0, so + err)
        self.served_with(SECRET3, "gpt-4.1-mini")
        rev = self.revision()

        # Errors: the loader's shape errors and the store's reference errors
        # both say file:line:column; nothing changes.
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write(config_yaml(self.fake.base_url, "sk-x").replace("kind: openai", "kind: opanai"))
        rc, so, err = self.cli("apply", "-f", bad)
        self.assertEqual(rc, 2, so + err)
        self.assertRegex(err, re.escape(bad) + r":12:\d+: llm\.providers\[0\]\.kind")
        with open(bad, "w") as f:
            f.write(config_yaml(self.fake.base_url, "sk-x").replace("provider: oa,", "provider: nope,"))
        rc, so, err = self.cli("apply", "-f", bad)
        self.assertEqual(rc, 2, so + err)
        self.assertIn(bad + ":17:", err)
        self.assertIn("llm.models[0].targets[0].provider", err)
        self.assertIn("[unknown_provider]; nothing changed", err)
        self.assertEqual(self.revision(), rev)

        # --owner: only the owner's providers are managed.
        team = os.path.join(self.tmp, "team.yaml")
        with open(team, "w") as f:
            f.write("llm:\n  providers:\n    - {name: team-p, kind: mock}\n")
        rc, so, err = self.cli("apply", "-f", team, "--owner", "team-x")
        self.assertEqual(rc, 0, so + err)
        self.assertEqual(so.splitlines()[0], "+ llm_provider team-p")
        p = self.ok(self.api("GET", "/api/v1/llm/providers/team-p"))
        self.assertEqual(p["tags"], ["team-x"])
        with open(team, "w") as f:
            f.write("{}\n")
        rc, so, err = self.cli("apply", "-f", team, "--owner", "team-x")
        self.assertEqual(rc, 0, so + err)
        self.assertEqual(so.splitlines()[0], "- llm_provider team-p")
        self.assertEqual(self.api("GET", "/api/v1/llm/providers/cli-oa").status, 200)
        self.served_with(SECRET3, "gpt-4.1-mini")

        self.assert_no_secret(out, SECRET2, SECRET3)
        self.assert_no_secret(self.db_text(), SECRET2, SECRET3)

    def test_3_cli_without_a_key(self):
        d = tempfile.mkdtemp(prefix="gatehouse-aidecl-nokey-")
        path = os.path.join(d, "llm.yaml")
        with open(path, "w") as f:
            f.write(config_yaml(self.fake.base_url, SECRET))
        rc, so, err = run_cli("apply", "-f", path, "--data-dir", os.path.join(d, "data"),
                              env={"GATEHOUSE_SECRET_KEY": ""})
        self.assertEqual(rc, 2, so + err)
        self.assertIn("llm.providers[0].api_key", err)
        self.assertIn("storing a secret needs a key-encryption key", err)
        self.assertIn("[secret_key_missing]; nothing changed", err)
        self.assertFalse(os.path.exists(os.path.join(d, "data", "secret.key")))

    def test_4_cli_with_the_nodes_settings_file(self):
        # A model may target a --settings provider once the CLI knows the
        # file; redefining one of its names is refused, located in the file.
        d = tempfile.mkdtemp(prefix="gatehouse-aidecl-settings-")
        settings = os.path.join(d, "settings.yaml")
        with open(settings, "w") as f:
            f.write("llm:\n  providers:\n    - {name: file-oa, kind: mock}\n")
        path = os.path.join(d, "llm.yaml")
        with open(path, "w") as f:
            f.write("llm:\n  models:\n    - {name: m, targets: [{provider: file-oa, model: x}]}\n")
        store = ["--data-dir", os.path.join(d, "data"), "--secret-key-file", self.key_file]
        rc, so, err = run_cli("apply", "-f", path, *store)
        self.assertEqual(rc, 2, so + err)
        self.assertIn("[unknown_provider]; nothing changed", err)
        rc, so, err = run_cli("apply", "-f", path, "--settings", settings, *store)
        self.assertEqual(rc, 0, so + err)
        self.assertIn("+ llm_model m", so)
        with open(path, "w") as f:
            f.write("llm:\n  providers:\n    - {name: file-oa, kind: mock}\n")
        rc, so, err = run_cli("diff", "-f", path, "--settings", settings, *store)
        self.assertEqual(rc, 2, so + err)
        self.assertIn(path + ":3:", err)
        self.assertIn("llm.providers[0].name", err)
        self.assertIn("[managed_by_settings]", err)


class FileModeConfig(unittest.TestCase):
    """With -c FILE the llm section is the file's: GET /api/v1/config shows it
    with inline keys masked (references as written), and the entity API's
    mirror of the file holds no provider entities."""

    def test_file_mode_masks_inline_provider_keys(self):
        cfg = ("llm:\n  providers:\n"
               "    - {name: inline, kind: openai, base_url: 'http://127.0.0.1:9', api_key: '%s'}\n"
               "    - {name: ref, kind: openai, base_url: 'http://127.0.0.1:9',"
               " api_key: '${GH_IT_FILE_REF}'}\n" % SECRET)
        gh = Gatehouse(cfg, env={"GATEHOUSE_ADMIN_TOKEN": TOKEN,
                                 "GH_IT_FILE_REF": "sk-file-reference-value-0000"})
        self.addCleanup(gh.cleanup)
        r = gh.api("GET", "/api/v1/config", None, TOKEN)
        self.assertEqual(r.status, 200, r)
        keys = [p["api_key"] for p in r.json()["llm"]["providers"]]
        self.assertEqual(keys, ["****wxyz", "${GH_IT_FILE_REF}"])
        self.assertNotIn(SECRET[:-4].encode(), r.body)
        self.assertNotIn(b"sk-file-reference", r.body)
        items = gh.api("GET", "/api/v1/llm/providers", None, TOKEN).json()["items"]
        self.assertEqual(items, [])
        gh.stop_and_check(self)


class AiDeclarativePostgres(Base):
    """The same plan on PostgreSQL: the CLI applies to the database a node
    serves from; the node picks it up through LISTEN/NOTIFY."""

    @classmethod
    def setUpClass(cls):
        try:
            cls.pg = PostgresServer()
        except PostgresUnavailable as e:
            raise unittest.SkipTest(str(e))
        cls.addClassCleanup(cls.pg.close)
        cls.url = cls.pg.create_database("gatehouse")
        cls.fake = FakeLLM("openai")
        cls.addClassCleanup(cls.fake.stop)
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-aidecl-pg-")
        cls.key_file = os.path.join(cls.tmp, "kek")
        with open(cls.key_file, "w") as f:
            f.write(new_key() + "\n")
        cls.gh = Gatehouse(None, tmpdir=cls.tmp,
                           extra_args=["--store", cls.url, "--secret-key-file", cls.key_file],
                           env={"GATEHOUSE_ADMIN_TOKEN": TOKEN})
        cls.addClassCleanup(cls.gh.cleanup)

    def test_cli_apply_export_round_trip(self):
        path = os.path.join(self.tmp, "llm.yaml")
        with open(path, "w") as f:
            f.write(config_yaml(self.fake.base_url, SECRET))
        store = ["--store", self.url, "--secret-key-file", self.key_file]
        rc, so, err = run_cli("apply", "-f", path, *store)
        self.assertEqual(rc, 0, so + err)
        self.served_with(SECRET, "gpt-4o-mini")
        rev = self.revision()
        exported = os.path.join(self.tmp, "export.yaml")
        rc, so, err = run_cli("export", "-o", exported, *store)
        self.assertEqual(rc, 0, err)
        for f in (exported, path):
            rc, so, err = run_cli("apply", "-f", f, *store)
            self.assertEqual(rc, 0, so + err)
            self.assertIn("no changes", so)
        self.assertEqual(self.revision(), rev)
        rows = self.pg.sql("gatehouse", "SELECT body FROM entities WHERE kind = 'llm_provider'")
        self.assertIn("gh1.", rows)
        self.assert_no_secret(rows, SECRET)
        with open(exported) as f:
            self.assert_no_secret(f.read(), SECRET)


if __name__ == "__main__":
    unittest.main()
