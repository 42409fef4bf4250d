#!/usr/bin/env python3
"""Dropping privileges (docs/security.md, "Privileges"), checked on the
running process: /proc/PID/status is read while a paced send to a UDP
listener on 127.0.0.1 is under way, and the listener counts what arrives.

  - `pkt run --user nobody` as root: Uid and Gid (real, effective, saved, fs)
    are nobody's, Groups only nobody's, CapInh/CapPrm/CapEff/CapBnd/CapAmb
    all 0, NoNewPrivs 1; every packet arrives.
  - SUDO_UID/SUDO_GID set (an unprivileged id with no passwd entry), no
    --user: the same with that uid and gid, and no supplementary groups.
  - --no-drop under the same SUDO_UID: Uid 0 and capabilities kept (so the
    reading above can fail).
  - pkt sniff --user nobody: the capture runs as nobody and still captures.
  - Two sr statements after the drop share the capture opened up front.
  - A late socket: Lua's send(frame, {iface = "lo"}) and sniff{iface = "lo"}
    after the drop fail with the documented message naming `-i lo` and
    --no-drop; with -i lo (or --no-drop) they work.
  - --user with an unknown name, and --user with --no-drop: usage errors (2).
  - A copy of the binary with file capabilities (setcap
    cap_net_raw,cap_net_admin+ep), run as nobody (setpriv): during the send
    CapPrm and CapEff are 0 and NoNewPrivs is 1; the packets arrive; its
    late socket fails the same way.

Needs root (and setcap, setpriv for the last part); skips (exit 77) without
root. Usage: privileges_live.py [PKT]
"""
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
failures = []
PKT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/pkt")
N = 150  # packets, 10 ms apart: 1.5 s of sending
CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def check(cond, what, detail=""):
    if cond:
        print("ok   %s" % what)
    else:
        print("FAIL %s\n%s" % (what, detail))
        failures.append(what)


def status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


class Listener:
    """A UDP socket on 127.0.0.1 counting the datagrams that arrive."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.3)
        self.port = self.s.getsockname()[1]
        self.count = 0
        self.done = False
        self.t = threading.Thread(target=self.run)
        self.t.start()

    def run(self):
        while not self.done:
            try:
                self.s.recv(2048)
                self.count += 1
            except socket.timeout:
                pass

    def stop(self):
        time.sleep(0.3)
        self.done = True
        self.t.join()
        self.s.close()
        return self.count


def sending_script(d, port):
    path = os.path.join(d, "send_%d.pkt" % port)
    with open(path, "w") as f:
        f.write("packet p = ipv4(dst=127.0.0.1) / udp(sport=40000, dport=%d) / \"privileges\"\n"
                "send p count %d interval 10ms\n" % (port, N))
    os.chmod(path, 0o644)
    return path


def watch_send(what, argv, env=None):
    """Runs a paced send, reads its status half-way; returns (status, rc, stderr, arrived)."""
    ls = Listener()
    script = sending_script(D, ls.port)
    p = subprocess.Popen(argv + [script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=D)
    # Once the first packet has arrived, the sockets are open and the drop is done.
    deadline = time.time() + 20
    while ls.count == 0 and p.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    st = status(p.pid) if p.poll() is None else {}
    out, err = p.communicate(timeout=30)
    arrived = ls.stop()
    check(p.returncode == 0, what + ": exits 0", err)
    check(arrived == N, what + ": every packet arrives (%d of %d)" % (arrived, N), err)
    check(bool(st), what + ": still sending when its status was read", err)
    return st


def check_dropped(what, st, uid, gid, groups):
    if not st:
        return
    check(st["Uid"] == [str(uid)] * 4, what + ": Uid (real, effective, saved, fs) is %d" % uid, st.get("Uid"))
    check(st["Gid"] == [str(gid)] * 4, what + ": Gid is %d" % gid, st.get("Gid"))
    check(set(st.get("Groups", [])) <= {str(g) for g in groups},
          what + ": supplementary groups only %s" % sorted(groups), st.get("Groups"))
    for c in CAPS:
        check(int(st[c][0], 16) == 0, what + ": %s is 0" % c, st[c])
    check(st["NoNewPrivs"] == ["1"], what + ": NoNewPrivs is 1", st.get("NoNewPrivs"))


def run(argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=D, timeout=60)
    return p.returncode, p.stdout, p.stderr


LATE = ("cannot open {what} on lo: privileges were dropped ({how}) once the sockets named up front were open; "
        "name it up front with `-i lo`, or run with --no-drop to keep them")


def late_scripts():
    frame = os.path.join(D, "late_send.pkt")
    with open(frame, "w") as f:
        f.write("packet f = eth(dst=00:00:00:00:00:00) / ipv4(dst=127.0.0.1) / udp(sport=40000, dport=9) / \"x\"\n"
                "lua {\n  send(f, {iface = \"lo\"})\n}\n")
    cap = os.path.join(D, "late_sniff.pkt")
    with open(cap, "w") as f:
        f.write("lua {\n  for p in sniff{iface = \"lo\", count = 1, timeout = 0.1} do end\n  print(\"sniffed\")\n}\n")
    for p in (frame, cap):
        os.chmod(p, 0o644)
    return frame, cap


def main():
    global D
    if os.geteuid() != 0:
        print("skipped: needs root")
        return SKIP
    nobody = pwd.getpwnam("nobody")
    groups = {nobody.pw_gid} | {g for g in os.getgrouplist("nobody", nobody.pw_gid)}
    D = tempfile.mkdtemp(prefix="pkt_priv_")
    os.chmod(D, 0o755)  # the dropped process reads its script here
    base = dict(os.environ)
    base.pop("SUDO_UID", None)
    base.pop("SUDO_GID", None)
    try:
        st = watch_send("--user nobody", [PKT, "run", "-q", "--user", "nobody"], base)
        check_dropped("--user nobody", st, nobody.pw_uid, nobody.pw_gid, groups)

        sudo = dict(base, SUDO_UID="12345", SUDO_GID="23456", SUDO_USER="nobody-in-particular")
        st = watch_send("sudo (SUDO_UID=12345)", [PKT, "run", "-q"], sudo)
        check_dropped("sudo (SUDO_UID=12345)", st, 12345, 23456, set())

        st = watch_send("sudo with --no-drop", [PKT, "run", "-q", "--no-drop"], sudo)
        if st:
            check(st["Uid"] == ["0"] * 4, "--no-drop: Uid stays 0", st["Uid"])
            check(int(st["CapEff"][0], 16) != 0, "--no-drop: capabilities kept", st["CapEff"])

        # pkt sniff: the capture opens as root, then runs as nobody.
        sn = subprocess.Popen([PKT, "sniff", "-i", "lo", "--user", "nobody", "-c", "1", "--timeout", "10s",
                               "udp", "port", "9"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=base, cwd=D)
        line = sn.stderr.readline()
        st = status(sn.pid) if sn.poll() is None else {}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"sniffed as nobody", ("127.0.0.1", 9))
        out, err = sn.communicate(timeout=20)
        check("listening on lo" in line and sn.returncode == 0 and "sniffed as nobody" in out,
              "pkt sniff --user nobody: captures", line + out + err)
        check_dropped("pkt sniff --user nobody", st, nobody.pw_uid, nobody.pw_gid, groups)

        # sr statements (capture on any, opened up front) and a sniff statement on lo, after the drop.
        srs = os.path.join(D, "sr.pkt")
        with open(srs, "w") as f:
            f.write("packet ping = ipv4(dst=127.0.0.1) / icmp(id=7, seq=1)\n"
                    "sr ping timeout 1s\nsr ping timeout 1s\n")
        os.chmod(srs, 0o644)
        rc, out, err = run([PKT, "run", "--user", "nobody", srs], base)
        check(rc == 0 and out.count("1 answered, 0 unanswered") == 2,
              "sr twice after the drop: the pre-opened capture answers both", "rc %d\n%s%s" % (rc, out, err))

        # A socket needed after the drop.
        frame, cap = late_scripts()
        how = "to nobody by --user nobody"
        rc, out, err = run([PKT, "run", "--user", "nobody", frame], base)
        check(rc == 1 and LATE.format(what="a packet socket (AF_PACKET)", how=how) in err,
              "late packet socket: the documented error", "rc %d\n%s" % (rc, err))
        rc, out, err = run([PKT, "run", "--user", "nobody", cap], base)
        check(rc == 1 and LATE.format(what="a capture", how=how) in err,
              "late capture: the documented error", "rc %d\n%s" % (rc, err))
        rc, out, err = run([PKT, "run", "--user", "nobody", "-i", "lo", frame], base)
        check(rc == 0 and "sent 1 packet" in err, "-i lo: the frame is sent after the drop", "rc %d\n%s" % (rc, err))
        rc, out, err = run([PKT, "run", "--user", "nobody", "-i", "lo", cap], base)
        check(rc == 0 and "sniffed" in out, "-i lo: the capture works after the drop", "rc %d\n%s%s" % (rc, out, err))
        rc, out, err = run([PKT, "run", frame], sudo)
        check(rc == 1 and LATE.format(what="a packet socket (AF_PACKET)", how="to uid 12345 by sudo (SUDO_UID=12345)")
              in err, "late socket under sudo: the documented error", "rc %d\n%s" % (rc, err))
        rc, out, err = run([PKT, "run", "--no-drop", frame], sudo)
        check(rc == 0, "--no-drop: the late socket opens", "rc %d\n%s" % (rc, err))

        rc, out, err = run([PKT, "run", "--user", "no-such-user-here", frame], base)
        check(rc == 2 and "--user no-such-user-here: no such user" in err, "--user unknown: usage error", err)
        rc, out, err = run([PKT, "run", "--user", "nobody", "--no-drop", frame], base)
        check(rc == 2 and "contradict" in err, "--user with --no-drop: usage error", err)

        for argv in (["--user", "nobody"], []):
            rc, out, err = run([PKT, "run"] + argv + ["-i", "pktnosuch0", frame], base)
            check(rc == 2 and "-i pktnosuch0: no interface named 'pktnosuch0'" in err,
                  "-i of no interface: usage error %s" % " ".join(argv), "rc %d\n%s" % (rc, err))

        # File capabilities, no root.
        setcap, setpriv = shutil.which("setcap"), shutil.which("setpriv")
        if not setcap or not setpriv:
            print("note: setcap or setpriv missing; the file capability part did not run")
            failures.append("file capabilities not checked (install libcap2-bin, util-linux)")
        else:
            capbin = os.path.join(D, "pkt_caps")
            shutil.copy(PKT, capbin)
            os.chmod(capbin, 0o755)
            subprocess.run([setcap, "cap_net_raw,cap_net_admin+ep", capbin], check=True)
            as_nobody = [setpriv, "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups"]
            st = watch_send("file capabilities", as_nobody + [capbin, "run", "-q"], base)
            if st:
                check(st["Uid"] == [str(nobody.pw_uid)] * 4, "file capabilities: runs as nobody", st["Uid"])
                for c in ("CapPrm", "CapEff", "CapInh", "CapAmb"):
                    check(int(st[c][0], 16) == 0, "file capabilities: %s is 0 during the send" % c, st[c])
                check(st["NoNewPrivs"] == ["1"], "file capabilities: NoNewPrivs is 1", st["NoNewPrivs"])
            rc, out, err = run(as_nobody + [capbin, "run", frame], base)
            check(rc == 1 and LATE.format(what="a packet socket (AF_PACKET)",
                                          how="by giving up this binary's file capabilities") in err,
                  "file capabilities: late socket, the documented error", "rc %d\n%s" % (rc, err))
            rc, out, err = run(as_nobody + [capbin, "run", "-i", "lo", frame], base)
            check(rc == 0, "file capabilities: -i lo opens it up front", "rc %d\n%s" % (rc, err))
    finally:
        shutil.rmtree(D, ignore_errors=True)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
