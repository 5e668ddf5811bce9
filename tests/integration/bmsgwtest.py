# SPDX-License-Identifier: MIT
"""What every integration test needs, in one place: free ports, readiness waits, a notify socket
like systemd's, the one config builder, and the programs under test as child processes: the
daemon (optionally under valgrind), bmsgw-sim tinybms with its control socket, the simulated
Modbus TCP devices, bms-harness and a socat PTY pair.

Only the Python standard library: the tests that import it also run inside the qemu guest
(tests/vm/run-vm)."""
import datetime
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

# How long a test waits for something that must happen (a port, a log line, a state): a give-up
# limit for a slow or busy machine, never what a test measures. What a test measures is judged by
# the daemon's own time stamps (Daemon.log_time()) or against a baseline taken in the same run.
GIVE_UP = 60

VALGRIND_CMD = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=9",
                "--track-fds=no", "-q"]


# ---- ports and waits ------------------------------------------------------------------------

def free_ports(n):
    """n distinct free TCP ports on loopback (bound, read back, released)."""
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def free_port():
    return free_ports(1)[0]


def wait_until(what, predicate, timeout):
    """Poll predicate until it returns a true value (returned); fail naming what after timeout
    seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def wait_port(port, timeout, proc=None):
    """Wait until something accepts on port (raises after timeout or when proc exits)."""
    def accepting():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False
    wait_until(f"something to listen on port {port}", accepting, timeout)


def stop_process(proc, timeout=GIVE_UP):
    """SIGTERM, then SIGKILL after timeout seconds; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def http_get_json(port, path, timeout=10):
    """GET http://127.0.0.1:port/path as JSON (the daemon's REST API; reads need no token)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return json.loads(r.read().decode())


# ---- the configuration ----------------------------------------------------------------------

def config(folder, ports=None, port_keys="", bms="", can=None, http=None, ws=None,
           modbus_tcp=None, log_level=None, extra="", mqtt=None):
    """A whole bmsgw.conf for a test in folder: state_dir folder/state (made here); bms.ports
    from ports, [(name, device)] (default: one string "house" on a device that does not exist),
    port_keys added to each port and bms to the bms group; can, http, ws, modbus_tcp and mqtt
    are the keys inside that group, or None for `{ enabled = false; }` (mqtt: left out, it is off
    by default); extra: whole other groups."""
    state = os.path.join(folder, "state")
    os.makedirs(state, exist_ok=True)
    if ports is None:
        ports = [("house", os.path.join(folder, "none"))]
    port_text = ", ".join(f'{{ name = "{n}"; device = "{d}"; {port_keys}}}' for n, d in ports)
    text = f'state_dir = "{state}";\n'
    if log_level is not None:
        text += f'log = {{ level = "{log_level}"; }};\n'
    text += f"bms = {{ {bms} ports = ( {port_text} ); }};\n"
    for group, keys in (("can", can), ("http", http), ("ws", ws), ("modbus_tcp", modbus_tcp)):
        text += f"{group} = {{ {'enabled = false;' if keys is None else keys} }};\n"
    if mqtt is not None:
        text += f"mqtt = {{ {mqtt} }};\n"
    return text + extra


def rest_keys(folder, port):
    """The http group's keys for the REST API on 127.0.0.1:port (token file in folder)."""
    source = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return (f'bind = "127.0.0.1"; port = {port}; api_token_file = "{folder}/api-token"; '
            f'web_root = "{source}/web";')


# ---- child processes ------------------------------------------------------------------------

class Child:
    """A program under test; its output (stdout unless piped, and stderr) in folder/NAME.log, or
    in an anonymous file when folder is None. stop() ends it and releases everything; close()
    kills it if still running (for finally blocks). Both may be called more than once."""

    def __init__(self, cmd, folder, name, log_mode="a", env=None, **popen):
        if folder is None:
            self.log_path, self.log = None, tempfile.TemporaryFile("w+")
        else:
            self.log_path = os.path.join(folder, name + ".log")
            self.log = open(self.log_path, log_mode)
        self._kept = None
        popen.setdefault("stdout", self.log)
        self.proc = subprocess.Popen(cmd, stderr=self.log, env=env, **popen)

    def text(self):
        """Its output so far."""
        if self._kept is not None:
            return self._kept
        self.log.flush()
        if self.log_path is None:
            self.log.seek(0)
            return self.log.read()
        with open(self.log_path) as f:
            return f.read()

    def stop(self, timeout=GIVE_UP):
        """SIGTERM (SIGKILL after timeout), release; returns the exit status."""
        rc = stop_process(self.proc, timeout)
        self.close()
        return rc

    def kill(self):
        """SIGKILL, release."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.close()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if not self.log.closed:
            self._kept = self.text()
            self.log.close()
        self._release()

    def _release(self):
        """What a kind of child holds besides its log."""


class Notify:
    """A notify socket like systemd's that keeps every datagram, so a wait can look only at what
    came after a mark (a signal sent, a fault injected) and not at older messages."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "notify.sock")
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.seen = []

    def close(self):
        """Keep what is still queued (a stopped daemon's last words), then close."""
        if self.sock is None:
            return
        self.sock.setblocking(False)
        try:
            while True:
                self.seen.append(self.sock.recv(4096).decode())
        except OSError:
            pass
        self.sock.close()
        self.sock = None
        if os.path.exists(self.path):
            os.unlink(self.path)

    def mark(self):
        return len(self.seen)

    def wait_for(self, needle, timeout, since=0):
        """The first datagram after mark `since` that contains needle."""
        deadline = time.monotonic() + timeout
        while True:
            for msg in self.seen[since:]:
                if needle in msg:
                    return msg
            since = len(self.seen)
            left = deadline - time.monotonic()
            if left <= 0 or self.sock is None:
                raise AssertionError(f"no notification with {needle!r} within {timeout} s: "
                                     f"{self.seen}")
            self.sock.settimeout(left)
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except socket.timeout:
                pass


class Daemon(Child):
    """bmsgw -f -c folder/bmsgw.conf (written from config_text) with a notify socket
    (self.notify), its output in folder/daemon.log; under valgrind when asked. ready: wait that
    long for READY=1. self.started is taken before the daemon can start anything."""

    def __init__(self, build, folder, config_text, env=None, valgrind=False, ready=None):
        self.conf = os.path.join(folder, "bmsgw.conf")
        self.write_config(config_text)
        self.notify = Notify(folder)
        env = dict(os.environ, **(env or {}), NOTIFY_SOCKET=self.notify.path)
        cmd = [os.path.join(build, "src", "bmsgw"), "-f", "-c", self.conf]
        self.started = time.monotonic()
        super().__init__(VALGRIND_CMD + cmd if valgrind else cmd, folder, "daemon", env=env)
        if ready is not None:
            try:
                self.notify.wait_for("READY=1", ready)
            except AssertionError:
                self.close()
                raise

    def write_config(self, config_text):
        """Rewrite the config file (a SIGHUP makes the daemon read it)."""
        with open(self.conf, "w") as f:
            f.write(config_text)

    def _release(self):
        self.notify.close()

    def wait_log(self, needle, timeout):
        """Wait for needle in the log; fails with the log when it does not come or the daemon
        exits first."""
        def found():
            if needle in self.text():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}) before "
                                     f"logging {needle!r}:\n{self.text()}")
            return False
        try:
            wait_until(f"log line {needle!r}", found, timeout)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.text()}") from None

    def saw_log(self, needle, timeout):
        """wait_log as True/False (for checks that record results instead of failing)."""
        try:
            self.wait_log(needle, timeout)
            return True
        except AssertionError:
            return False

    def log_time(self, pattern):
        """The daemon's own time stamp (in seconds) of its first log line matching pattern (a
        regular expression searched in the message after the thread tag)."""
        for line in self.text().splitlines():
            m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) +\S+ +\[[^]]*\] (.*)", line)
            if m and re.search(pattern, m.group(2)):
                stamp = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
                return stamp.timestamp()
        raise AssertionError(f"no log line matching {pattern!r}:\n{self.text()}")

    def thread_cpu_s(self, name="can"):
        """CPU seconds (user + system) of the daemon's thread with that name."""
        task_dir = f"/proc/{self.proc.pid}/task"
        for tid in os.listdir(task_dir):
            with open(f"{task_dir}/{tid}/comm") as f:
                if f.read().strip() != name:
                    continue
            return _cpu_s(f"{task_dir}/{tid}/stat")
        return None

    def process_cpu_s(self):
        return _cpu_s(f"/proc/{self.proc.pid}/stat")


def _cpu_s(stat_path):
    with open(stat_path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Control:
    """The control socket of bmsgw-sim tinybms: one command a line, one answer a line."""

    def __init__(self, path, proc=None, timeout=GIVE_UP):
        def connect():
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"the simulator exited with {proc.returncode}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(path)
                s.settimeout(GIVE_UP)
                return s
            except OSError:
                s.close()
                return None
        self.sock = wait_until(f"control socket {path}", connect, timeout)
        self.file = self.sock.makefile("rw")

    def cmd(self, line):
        """The answer to line, as it came."""
        self.file.write(line + "\n")
        self.file.flush()
        return self.file.readline().strip()

    def ok(self, line):
        answer = self.cmd(line)
        if answer != "ok":
            raise AssertionError(f"simulator: {line!r}: {answer}")

    def get(self):
        return json.loads(self.cmd("get"))

    def close(self):
        self.file.close()
        self.sock.close()


class TinyBMS(Child):
    """bmsgw-sim tinybms on device (a PTY it makes, or a serial line it opens such as one end of
    a PtyPair), driven through self.ctl (folder/NAME.sock); up once the control socket answers
    and the device exists."""

    def __init__(self, build, folder, device, args=(), name="sim"):
        self.device = device
        self.control_path = os.path.join(folder, name + ".sock")
        self.ctl = None
        self.own_pty = not os.path.exists(device)  # it makes a PTY and the link to it
        cmd = [os.path.join(build, "src", "bmsgw-sim"), "tinybms", "--device", device,
               "--control", self.control_path] + list(args)
        super().__init__(cmd, folder, name)
        try:
            self.ctl = Control(self.control_path, self.proc)
            wait_until(f"device {device}", lambda: os.path.exists(device), GIVE_UP)
        except AssertionError:
            self.close()
            raise

    def kill(self):
        """SIGKILL, release, and remove what it can no longer remove itself (its PTY link and
        control socket), so that a new simulator can take their place."""
        super().kill()
        for path in ([self.device] if self.own_pty else []) + [self.control_path]:
            if os.path.lexists(path):
                os.unlink(path)

    def _release(self):
        if self.ctl is not None:
            self.ctl.close()
            self.ctl = None


class Device(Child):
    """A simulated Modbus TCP device: bmsgw-sim MODE --bind 127.0.0.1 --port PORT ARGS, up once
    it accepts on port; self.started before it was started, self.ready once it accepted."""

    def __init__(self, build, mode, port, *args, folder=None):
        self.started = time.monotonic()
        cmd = [os.path.join(build, "src", "bmsgw-sim"), mode, "--bind", "127.0.0.1", "--port",
               str(port)] + list(args)
        super().__init__(cmd, folder, mode)
        try:
            wait_port(port, GIVE_UP, self.proc)
        except AssertionError:
            self.close()
            raise
        self.ready = time.monotonic()


class Harness(Child):
    """tests/integration/bms_harness.c: the real bms service with config_text, answering one
    JSON line per command."""

    def __init__(self, build, folder, config_text, name="harness"):
        self.config = os.path.join(folder, name + ".conf")
        with open(self.config, "w") as f:
            f.write(config_text)
        exe = os.path.join(build, "tests", "integration", "bms-harness")
        super().__init__([exe, self.config], folder, name, log_mode="w", stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline().strip()
        if first != "ready":
            raise AssertionError(f"harness did not start: {first!r}\n{self.text()}")

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise AssertionError(f"harness died on {line!r}:\n{self.text()}")
        return json.loads(answer)

    def string(self, i=0):
        return self.ask("snapshot")["strings"][i]

    def wait_string(self, what, predicate, timeout, i=0):
        return wait_until(what, lambda: (lambda s: s if predicate(s) else None)(self.string(i)),
                          timeout)

    def events(self):
        return self.ask("events")

    def stop(self, timeout=GIVE_UP):
        """'quit' on its input; returns the exit status."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                pass
        self.close()
        return self.proc.returncode

    def _release(self):
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except BrokenPipeError:
                pass


class PtyPair(Child):
    """socat PTY pair: two linked serial lines (A for the simulator, B for the gateway)."""

    def __init__(self, folder, name="pair"):
        self.a = os.path.join(folder, name + "-a")
        self.b = os.path.join(folder, name + "-b")
        super().__init__(["socat", "-d", "-d", f"pty,raw,echo=0,link={self.a}",
                          f"pty,raw,echo=0,link={self.b}"], folder, name)
        wait_until("socat's PTY pair", lambda: os.path.exists(self.a) and os.path.exists(self.b),
                   GIVE_UP)


def make_test_ca(folder, name="ca"):
    """A CA and a server certificate for 127.0.0.1/localhost signed by it, made with openssl in
    folder: {"ca": path, "cert": path, "key": path}."""
    p = {k: os.path.join(folder, f"{name}-{k}.pem") for k in ("ca", "ca-key", "cert", "key")}
    csr, ext = os.path.join(folder, f"{name}.csr"), os.path.join(folder, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)  # noqa
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        f"/CN=bmsgw test {name}", "-keyout", p["ca-key"], "-out", p["ca"])
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", p["key"],
        "-out", csr)
    run("x509", "-req", "-in", csr, "-CA", p["ca"], "-CAkey", p["ca-key"], "-CAcreateserial",
        "-days", "2", "-extfile", ext, "-out", p["cert"])
    return {"ca": p["ca"], "cert": p["cert"], "key": p["key"]}


class Mosquitto(Child):
    """Debian's mosquitto on 127.0.0.1:port (free when None) from a config generated in folder:
    no anonymous clients, users {name: password} in a mosquitto_passwd file, acl the text of
    its ACL file, and with tls (make_test_ca()) a TLS listener on tls_port; up once its ports
    accept.
    A broker started again on the same ports is the same broker restarted (no persistence)."""

    def __init__(self, folder, users, acl, port=None, tls=None, tls_port=None, name="mosquitto"):
        self.port = port or free_port()
        self.tls_port = (tls_port or free_port()) if tls else None
        passwd = os.path.join(folder, name + ".passwd")
        acl_path = os.path.join(folder, name + ".acl")
        conf = os.path.join(folder, name + ".conf")
        open(passwd, "w").close()
        for user, password in users.items():
            subprocess.run(["mosquitto_passwd", "-b", passwd, user, password], check=True)
        with open(acl_path, "w") as f:
            f.write(acl)
        lines = ["per_listener_settings false", "allow_anonymous false",
                 f"password_file {passwd}", f"acl_file {acl_path}", "persistence false",
                 "log_dest stderr", "log_type error", "log_type warning", "log_type notice",
                 "connection_messages true"]
        if os.geteuid() == 0:
            lines.append("user root")  # the generated files are root's; stay who we are
        lines.append(f"listener {self.port} 127.0.0.1")
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {tls['ca']}",
                      f"certfile {tls['cert']}", f"keyfile {tls['key']}"]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        broker = os.environ.get("BMSGW_MOSQUITTO", "/usr/sbin/mosquitto")
        super().__init__([broker, "-c", conf], folder, name)
        try:
            wait_port(self.port, GIVE_UP, self.proc)
            if tls:
                wait_port(self.tls_port, GIVE_UP, self.proc)
        except AssertionError:
            self.close()
            raise
