"""Debian's nginx as a test peer (upstream, TLS upstream) for the integration
tests; re-exported by harness.py."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import free_port

NGINX = "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx on 127.0.0.1:<free port>, everything inside a temp dir.

    Locations: /nginx/ok -> `return 200 "ok from nginx\\n"`;
               /static/  -> files written with files={"name": bytes}.
    tls={"cert": path, "key": path, "client_ca": path (optional)} adds an
    HTTPS server on 127.0.0.1:<tls_port> (self.tls_address) with the same
    locations plus /nginx/tls -> "tls <protocol> client=<subject DN or ->
    verify=<ssl_client_verify>" (client certificates are optional).
    """

    def __init__(self, files=None, tls=None):
        self.tls = tls
        self.tls_port = None
        self.tls_address = None
        if not os.path.exists(NGINX):
            raise RuntimeError("nginx not installed at " + NGINX)
        self.dir = tempfile.mkdtemp(prefix="gatehouse-nginx-")
        os.chmod(self.dir, 0o755)
        www = os.path.join(self.dir, "www", "static")
        os.makedirs(www)
        os.makedirs(os.path.join(self.dir, "tmp"))
        for name, data in (files or {}).items():
            with open(os.path.join(www, name), "wb") as f:
                f.write(data)
        self.proc = None
        last = ""
        for _ in range(5):
            self.port = free_port()
            if self.tls:
                self.tls_port = free_port()
                self.tls_address = "127.0.0.1:%d" % self.tls_port
            self._write_conf()
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                 "-c", os.path.join(self.dir, "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_up():
                self.address = "127.0.0.1:%d" % self.port
                return
            self.stop()
            last = self._error_log()
        raise RuntimeError("nginx did not start:\n" + last)

    def _write_conf(self):
        d = self.dir
        user = "user root;\n" if os.geteuid() == 0 else ""
        conf = """%(user)sworker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path %(d)s/tmp/client_body;
    proxy_temp_path %(d)s/tmp/proxy;
    fastcgi_temp_path %(d)s/tmp/fastcgi;
    uwsgi_temp_path %(d)s/tmp/uwsgi;
    scgi_temp_path %(d)s/tmp/scgi;
    keepalive_requests 10000;
    server {
        listen 127.0.0.1:%(port)d;
        server_name _;
        location = /nginx/ok { return 200 "ok from nginx\\n"; }
        location /static/ { root %(d)s/www; }
    }
%(tls)s}
""" % {"user": user, "d": d, "port": self.port, "tls": self._tls_server()}
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(conf)

    def _tls_server(self):
        if not self.tls:
            return ""
        verify = ""
        if self.tls.get("client_ca"):
            verify = ("        ssl_verify_client optional;\n"
                      "        ssl_client_certificate %s;\n" % self.tls["client_ca"])
        return """    server {
        listen 127.0.0.1:%(port)d ssl;
        server_name _;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
%(verify)s        location = /nginx/ok { return 200 "ok from nginx\\n"; }
        location = /nginx/tls {
            return 200 "tls $ssl_protocol client=$ssl_client_s_dn verify=$ssl_client_verify\\n";
        }
        location /static/ { root %(d)s/www; }
    }
""" % {"port": self.tls_port, "cert": self.tls["cert"], "key": self.tls["key"], "verify": verify,
       "d": self.dir}

    def _wait_up(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def _error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
