"""A throwaway PostgreSQL server for integration tests (the Python twin of
src/store/test_support/pg_server_test.cpp): initdb into a temp folder,
pg_ctl start on a free loopback port with its socket in that folder. As
root the server runs as `postgres` via runuser. A watchdog process stops the
server and removes the folder even if the test is killed.

    with PostgresServer() as pg:
        url = pg.create_database("gatehouse")
        pg.sql("gatehouse", "SELECT 1")
"""

import os
import pwd
import shutil
import subprocess
import tempfile

from harness import free_port

ADMIN_USER = "gatehouse"


def find_bindir():
    env = os.environ.get("GATEHOUSE_PG_BINDIR")
    if env:
        return env
    for v in ("17", "16", "15"):
        p = "/usr/lib/postgresql/%s/bin" % v
        if os.path.exists(os.path.join(p, "initdb")) and os.path.exists(os.path.join(p, "pg_ctl")):
            return p
    return None


class PostgresUnavailable(Exception):
    pass


class PostgresServer:
    def __init__(self):
        self.bindir = find_bindir()
        if not self.bindir:
            raise PostgresUnavailable("PostgreSQL server binaries not found "
                                      "(install postgresql-15; scripts/bootstrap does)")
        self.dir = tempfile.mkdtemp(prefix="gatehouse-pg-it-")
        self.as_user = []
        if os.geteuid() == 0:
            runuser = next((p for p in ("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser")
                            if os.access(p, os.X_OK)), None)
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                pw = pwd.getpwnam("nobody")
            if not runuser:
                raise PostgresUnavailable("running as root needs runuser")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = [runuser, "-u", pw.pw_name, "--"]
        stop = " ".join(self.as_user + [self.bindir + "/pg_ctl", "-D", self.dir + "/data", "stop",
                                        "-m", "immediate"])
        # Reads until our end of the pipe closes (we exit, however), then cleans up.
        self.watchdog = subprocess.Popen(
            ["/bin/sh", "-c", "cat >/dev/null; %s >/dev/null 2>&1; rm -rf %s" % (stop, self.dir)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.port = None
        self._run(["initdb", "-D", self.dir + "/data", "-U", ADMIN_USER, "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-sync"])
        for _ in range(3):
            self.port = free_port()
            opts = ("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off" % (self.port, self.dir))
            if self._run(["pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/postgres.log", "-w",
                          "-t", "60", "-o", opts, "start"], check=False) == 0:
                return
        self.close()
        raise PostgresUnavailable("pg_ctl start failed")

    def _run(self, argv, check=True):
        p = subprocess.run(self.as_user + [os.path.join(self.bindir, argv[0])] + argv[1:],
                           cwd=self.dir, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise PostgresUnavailable("%s failed: %s%s" % (argv[0], p.stdout, p.stderr))
        return p.returncode

    def url(self, db="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (ADMIN_USER, self.port, db)

    def sql(self, db, statement):
        """Runs SQL through psql; returns stdout (unaligned, tuples only)."""
        psql = shutil.which("psql") or os.path.join(self.bindir, "psql")
        p = subprocess.run([psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(db),
                            "-c", statement], capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql: %s" % p.stderr)
        return p.stdout.strip()

    def create_database(self, name):
        self.sql("postgres", "CREATE DATABASE %s" % name)
        return self.url(name)

    def close(self):
        if self.port:
            self._run(["pg_ctl", "-D", self.dir + "/data", "stop", "-m", "fast"], check=False)
            self.port = None
        if self.watchdog and self.watchdog.poll() is None:
            self.watchdog.stdin.close()  # the watchdog removes the folder
            try:
                self.watchdog.wait(30)
            except subprocess.TimeoutExpired:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
