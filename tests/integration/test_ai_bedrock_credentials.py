#!/usr/bin/env python3
"""Bedrock credentials from the AWS chain: Gatehouse finds its keys in the
environment, the shared files (a named profile, with its region), a container
credentials endpoint (token file) or EC2 instance metadata v2 (fake_aws_metadata.py),
signs with the fetched keys and session token (checked by fake_bedrock.py),
renews temporary keys before they expire without failing a request, keeps
serving the old keys when a renewal fails and answers 502 ai_provider_auth
once they have expired."""

import json
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Gatehouse, wait_until  # noqa: E402
from fake_bedrock import FakeBedrock  # noqa: E402
from fake_aws_metadata import FakeContainer, FakeImds  # noqa: E402

MODEL_ID = "anthropic.claude-3-haiku-20240307-v1:0"
CONSUMER_KEY = "dora-consumer-key"

CONFIG = """\
llm:
  providers:
{providers}
  models:
{models}
routes:
  - name: ai
    match: {{paths: ["/v1/"]}}
    llm: {{models: [{names}]}}
    policies: [{{name: key-auth, config: {{key_names: [authorization]}}}}]
consumers:
  - {{name: dora, credentials: [{{type: key-auth, key: "{consumer}"}}]}}
"""


def config(base, providers):
    """providers: [(name, extra yaml)], one model per provider, named like it."""
    prov = "\n".join('    - {name: %s, kind: bedrock, base_url: "%s"%s}' % (n, base, extra)
                     for n, extra in providers)
    models = "\n".join('    - {name: %s, targets: [{provider: %s, model: "%s"}]}' % (n, n, MODEL_ID)
                       for n, _ in providers)
    return CONFIG.format(providers=prov, models=models, names=", ".join(n for n, _ in providers),
                         consumer=CONSUMER_KEY)


def clean_env(tmp, **extra):
    """No AWS setting from the machine running the tests: empty is unset."""
    env = {k: "" for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                           "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                           "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                           "AWS_EC2_METADATA_SERVICE_ENDPOINT")}
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(tmp, "absent-credentials")
    env["AWS_CONFIG_FILE"] = os.path.join(tmp, "absent-config")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env.update(extra)
    return env


def chat(port, model):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/v1/chat/completions" % port,
        data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + CONSUMER_KEY})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


class BedrockCredentialChain(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-aws-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bedrock = FakeBedrock(access_key="AKIDSTATICUNUSED", secret_key="unused",
                                   region="us-west-2")
        self.addCleanup(self.bedrock.stop)

    def start(self, providers, env):
        gh = Gatehouse(config(self.bedrock.base_url, providers), env=env)
        self.addCleanup(gh.cleanup)
        return gh

    def only_signed(self, akid, token):
        reqs = self.bedrock.take()
        self.assertTrue(reqs)
        for r in reqs:
            self.assertTrue(r["sig_ok"], r["sig_error"])
            self.assertEqual((r["akid"], r["token"]), (akid, token))

    def test_imds_keys_shared_fetch_and_rotation_before_expiry(self):
        imds = FakeImds(role="bedrock-caller")
        self.addCleanup(imds.stop)
        # Four minutes left: inside the five-minute renewal window from the start.
        imds.serve("ASIAIMDSFIRST", "imds/secret+1", "imds-token-1", 240)
        imds.take()
        self.bedrock.add_key("ASIAIMDSFIRST", "imds/secret+1", "imds-token-1")
        self.bedrock.add_key("ASIAIMDSSECOND", "imds/secret+2", "imds-token-2")
        gh = self.start([("imds", ", region: us-west-2")],
                        clean_env(self.tmp, AWS_EC2_METADATA_DISABLED="",
                                  AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.base_url + "/"))
        # Concurrent first requests (two workers) share one fetch.
        results = []
        threads = [threading.Thread(target=lambda: results.append(chat(gh.proxy_port, "imds")))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([s for s, _ in results], [200] * 8, results)
        self.only_signed("ASIAIMDSFIRST", "imds-token-1")
        reqs = imds.take()
        self.assertEqual([(r["method"], r["path"]) for r in reqs],
                         [("PUT", "/latest/api/token"),
                          ("GET", "/latest/meta-data/iam/security-credentials/"),
                          ("GET", "/latest/meta-data/iam/security-credentials/bedrock-caller")])
        self.assertEqual(reqs[0]["headers"]["x-aws-ec2-metadata-token-ttl-seconds"], "21600")
        self.assertTrue(reqs[1]["headers"]["x-aws-ec2-metadata-token"].startswith("imds-"))
        # The instance rotates its keys; the old ones are still valid meanwhile.
        imds.serve("ASIAIMDSSECOND", "imds/secret+2", "imds-token-2", 3600)
        statuses = []

        def rotated():
            s, _ = chat(gh.proxy_port, "imds")
            statuses.append(s)
            return any(r["akid"] == "ASIAIMDSSECOND" for r in self.bedrock.requests)

        self.assertTrue(wait_until(rotated, timeout=60, interval=0.2))
        self.assertEqual(set(statuses), {200})  # no request failed across the rotation
        self.bedrock.take()
        self.assertEqual(chat(gh.proxy_port, "imds")[0], 200)
        self.only_signed("ASIAIMDSSECOND", "imds-token-2")
        rec = gh.wait_log(lambda x: x.get("msg") == "aws credentials fetched"
                          and "bedrock-caller" in x.get("from", ""))
        self.assertNotIn("imds/secret", json.dumps(rec))
        gh.stop_and_check(self)
        for line in gh.stderr_lines:
            self.assertNotIn("imds/secret", line)
            self.assertNotIn("imds-token-", line)

    def test_container_endpoint_with_token_file(self):
        container = FakeContainer(path="/v2/credentials/task", auth_token="pod-identity-token")
        self.addCleanup(container.stop)
        container.serve("ASIACONTAINER", "container/secret", "container-token", 3600)
        self.bedrock.add_key("ASIACONTAINER", "container/secret", "container-token")
        token_file = os.path.join(self.tmp, "token")
        with open(token_file, "w") as f:
            f.write("pod-identity-token\n")
        gh = self.start([("ctr", ", region: us-west-2")],
                        clean_env(self.tmp, AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url,
                                  AWS_CONTAINER_AUTHORIZATION_TOKEN="not-this-one",
                                  AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=token_file))
        status, body = chat(gh.proxy_port, "ctr")
        self.assertEqual(status, 200, body)
        self.only_signed("ASIACONTAINER", "container-token")
        reqs = container.take()
        self.assertEqual(len(reqs), 1)
        self.assertEqual(reqs[0]["headers"]["authorization"], "pod-identity-token")
        # Keys good for an hour are not fetched again per request.
        for _ in range(3):
            self.assertEqual(chat(gh.proxy_port, "ctr")[0], 200)
        self.assertEqual(container.take(), [])

    def test_failed_renewal_serves_old_keys_until_expiry_then_502(self):
        container = FakeContainer()
        self.addCleanup(container.stop)
        container.serve("ASIASHORTLIVED", "short/secret", "short-token", 12)
        self.bedrock.add_key("ASIASHORTLIVED", "short/secret", "short-token")
        gh = self.start([("short", ", region: us-west-2")],
                        clean_env(self.tmp, AWS_CONTAINER_CREDENTIALS_FULL_URI=container.url))
        self.assertEqual(chat(gh.proxy_port, "short")[0], 200)
        container.fail_status = 500  # every renewal fails from now on
        seen = []

        def failed():
            s, body = chat(gh.proxy_port, "short")
            seen.append((s, body))
            return s != 200

        self.assertTrue(wait_until(failed, timeout=60, interval=0.3))
        # Renewals were tried (and failed) while the old keys still served.
        self.assertGreater(container.count("GET", "/v1/credentials"), 1)
        self.assertGreater(len(seen), 1)
        self.assertTrue(all(s == 200 for s, _ in seen[:-1]))
        status, body = seen[-1]
        self.assertEqual(status, 502, body)
        msg = body["error"]["message"]
        self.assertIn("bedrock provider short", msg)
        self.assertIn("HTTP 500", msg)
        rec = gh.wait_access(lambda x: x.get("status") == 502)
        self.assertEqual(rec["error"], "ai_provider_auth")
        gh.wait_log(lambda x: x.get("msg") == "aws credentials fetch failed")

    def test_environment_and_named_profile_with_its_region(self):
        creds = os.path.join(self.tmp, "credentials")
        conf = os.path.join(self.tmp, "config")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = AKIDFILEDEFAULT\n"
                    "aws_secret_access_key = file/default\n\n"
                    "[team]\naws_access_key_id = ASIAFILETEAM\n"
                    "aws_secret_access_key = file/team ; rotated weekly\n"
                    "aws_session_token = team-token\n")
        with open(conf, "w") as f:
            f.write("[profile team]\nregion = us-west-2\n")
        self.bedrock.add_key("AKIDFROMENV", "env/secret", "env-token")
        self.bedrock.add_key("ASIAFILETEAM", "file/team", "team-token")
        gh = self.start([("env", ", region: us-west-2"), ("team", ", aws: {profile: team}"),
                         ("nope", ", region: us-west-2, aws: {profile: nope}")],
                        clean_env(self.tmp, AWS_ACCESS_KEY_ID="AKIDFROMENV",
                                  AWS_SECRET_ACCESS_KEY="env/secret",
                                  AWS_SESSION_TOKEN="env-token",
                                  AWS_SHARED_CREDENTIALS_FILE=creds, AWS_CONFIG_FILE=conf))
        self.assertEqual(chat(gh.proxy_port, "env")[0], 200)
        self.only_signed("AKIDFROMENV", "env-token")  # the environment comes first
        # A named profile reads only the shared files; its region came from the config file.
        self.assertEqual(chat(gh.proxy_port, "team")[0], 200)
        self.only_signed("ASIAFILETEAM", "team-token")
        status, body = chat(gh.proxy_port, "nope")
        self.assertEqual(status, 502)
        self.assertIn('no profile "nope" in ' + creds, body["error"]["message"])
        self.assertEqual(self.bedrock.take(), [])

    def test_nothing_found_names_every_source(self):
        gh = self.start([("none", ", region: us-west-2")], clean_env(self.tmp))
        status, body = chat(gh.proxy_port, "none")
        self.assertEqual(status, 502)
        msg = body["error"]["message"]
        for part in ("environment: AWS_ACCESS_KEY_ID is not set",
                     'shared files: no profile "default"',
                     "container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set",
                     "instance metadata: AWS_EC2_METADATA_DISABLED=true"):
            self.assertIn(part, msg)
        self.assertEqual(self.bedrock.take(), [])


if __name__ == "__main__":
    unittest.main()
