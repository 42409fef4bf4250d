"""Network namespaces for the live tests (read_live, sniff_live, sr_live,
source_live, fragment_live): each test names its namespaces after its pid, creates them,
and deletes them whatever happens; `delete_namespaces(..., stale=True)`
also removes those of runs that died before they could."""
import json
import re
import shutil
import signal
import tempfile
import os
import subprocess
import sys
import time


def sh(*cmd, check=True, timeout=30, **kw):
    """Runs cmd; a non-zero exit raises with its output unless check is False."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def in_ns(ns, *cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def delete_namespaces(mine, pattern, stale=False):
    """The namespaces in `mine`; with stale, also those matching `pattern`
    (whose group 1 is a pid) of runs that are no longer alive."""
    for ns in sh("ip", "netns", "list", check=False).stdout.split():
        m = pattern.match(ns)
        if ns in mine or (stale and m and not alive(int(m.group(1)))):
            sh("ip", "netns", "del", ns, check=False)


def veth_pair(ns_a, dev_a, addrs_a, ns_b, dev_b, addrs_b):
    """Two new namespaces joined by a veth pair: lo up, each end given its
    (IPv4, IPv6) addresses (/24 and /64, IPv6 without DAD) and up; returns
    once the link has a carrier."""
    sh("ip", "netns", "add", ns_a)
    sh("ip", "netns", "add", ns_b)
    sh("ip", "link", "add", dev_a, "netns", ns_a, "type", "veth", "peer", "name", dev_b, "netns", ns_b)
    for ns, dev, (v4, v6) in ((ns_a, dev_a, addrs_a), (ns_b, dev_b, addrs_b)):
        sh(*in_ns(ns, "ip", "link", "set", "lo", "up"))
        sh(*in_ns(ns, "ip", "addr", "add", v4 + "/24", "dev", dev))
        sh(*in_ns(ns, "ip", "addr", "add", v6 + "/64", "dev", dev, "nodad"))
        sh(*in_ns(ns, "ip", "link", "set", dev, "up"))
    deadline = time.monotonic() + 10
    while "LOWER_UP" not in sh(*in_ns(ns_a, "ip", "link", "show", dev_a)).stdout:
        if time.monotonic() > deadline:
            raise RuntimeError("%s has no carrier" % dev_a)
        time.sleep(0.05)


# Runs in a peer namespace: UDP listeners on 0.0.0.0 and :: at a port, one
# JSON line per datagram received, until `want` arrived or the time is up.
UDP_LISTENER = r"""
import json, select, socket, sys, time
port, want, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind(("0.0.0.0", port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); s6.bind(("::", port))
print("ready", flush=True)
got, end = 0, time.monotonic() + limit
while got < want and time.monotonic() < end:
    r, _, _ = select.select([s4, s6], [], [], max(0.0, end - time.monotonic()))
    for s in r:
        data, addr = s.recvfrom(65536)
        print(json.dumps({"from": addr[0], "sport": addr[1], "data": data.decode("latin-1")}), flush=True)
        got += 1
"""


def send_to_listener(pkt, script_text, ns_send, ns_listen, port, want, scope, tmp, limit=5.0):
    """Runs `pkt run` on the script in ns_send while UDP_LISTENER listens on
    `port` in ns_listen; returns (the datagrams received, pkt's result)."""
    script = os.path.join(tmp, "send.pkt")
    with open(script, "w") as f:
        f.write(script_text)
    listener = subprocess.Popen(in_ns(ns_listen, sys.executable, "-c", UDP_LISTENER, str(port), str(want), str(limit)),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if listener.stdout.readline().strip() != "ready":
            raise RuntimeError("the listener did not start: %s" % listener.stderr.read())
        run = sh(*in_ns(ns_send, pkt, "run", script, "--scope", scope), check=False, timeout=30)
        out, _ = listener.communicate(timeout=limit + 10)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    return [json.loads(line) for line in out.splitlines() if line.strip()], run


class ListenerPair:
    """Two namespaces joined by a veth pair, the first sending with pkt, the
    second listening with UDP sockets: 10.N.0.1/24 - 10.N.0.2/24 and
    fd00:N::1/64 - fd00:N::2/64, named pkt-TAG-{a,b}-PID. The scope is their
    own networks, nothing else."""

    def __init__(self, tag, net, port):
        self.ns_a, self.ns_b = ("pkt-%s-%s-%d" % (tag, k, os.getpid()) for k in ("a", "b"))
        self.pattern = re.compile(r"^pkt-%s-(?:a|b)-(\d+)$" % re.escape(tag))
        self.dev_a, self.dev_b = "v%s-a" % tag, "v%s-b" % tag
        self.v4_a, self.v4_b = "10.%d.0.1" % net, "10.%d.0.2" % net
        self.v6_a, self.v6_b = "fd00:%d::1" % net, "fd00:%d::2" % net
        self.scope = "10.%d.0.0/24,fd00:%d::/64" % (net, net)
        self.port = port

    def delete(self, stale=False):
        delete_namespaces((self.ns_a, self.ns_b), self.pattern, stale)

    def make(self):
        veth_pair(self.ns_a, self.dev_a, (self.v4_a, self.v6_a), self.ns_b, self.dev_b, (self.v4_b, self.v6_b))

    def exchange(self, pkt, script_text, want, tmp, limit=5.0):
        """Runs `pkt run` on the script in the first namespace while the second
        listens; returns (datagrams, pkt's result)."""
        return send_to_listener(pkt, script_text, self.ns_a, self.ns_b, self.port, want, self.scope, tmp, limit)

    def left(self):
        return [ns for ns in sh("ip", "netns", "list", check=False).stdout.split() if ns in (self.ns_a, self.ns_b)]


def live_main(name, pair, body):
    """The skeleton of a live test: finds pkt (argv[1], $PKT, build/pkt),
    skips (77) without root or iproute2, creates the pair, calls
    body(pkt, pair, tmp, check) and always deletes the namespaces. check(name,
    ok, detail) records a result. Returns the exit status."""
    root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    pkt = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PKT") or
                          os.path.join(root, "build", "pkt"))
    if not os.access(pkt, os.X_OK):
        print("no pkt binary at %s" % pkt)
        return 1
    if os.geteuid() != 0:
        print("SKIP: not root (raw sends and network namespaces need root); nothing was checked")
        return 77
    if not shutil.which("ip"):
        print("SKIP: ip (iproute2) not installed; nothing was checked")
        return 77
    # ctest's timeout sends SIGTERM: leave through the finally block that deletes the namespaces.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("%s: terminated" % name))
    failures = []
    passed = 0

    def check(what, ok, detail):
        nonlocal passed
        if ok:
            passed += 1
            print("ok   %s" % what)
        else:
            failures.append(what)
            print("FAIL %s: %s" % (what, detail))

    pair.delete(stale=True)
    try:
        pair.make()
        with tempfile.TemporaryDirectory() as tmp:
            body(pkt, pair, tmp, check)
    finally:
        pair.delete()
    left = pair.left()
    check("namespaces deleted", not left, "left behind: %s" % left)
    print("%s: %d passed, %d failed" % (name, passed, len(failures)))
    return 1 if failures else 0
