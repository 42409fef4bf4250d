#!/usr/bin/python3
"""dns and bootp/dhcp (stdlib/60-dns.pkt, stdlib/61-dhcp.pkt) against scapy,
tshark and `pkt read`, and a DNS query answered by a local responder.

  1. build: `pkt build -e EXPR --format hex` equals bytes(scapy packet) for
     each case (defaults, every field set, records and options present);
  2. tshark dissects a pcap of the built packets with no Malformed or expert
     warning, and reads the field values pkt set (-T fields);
  3. read: scapy-written pcaps (and names compressed by scapy's
     dns_compress) read back with the same field values, and the
     --format pkt text builds to the same bytes;
  4. bad input: a label over 63 bytes, a name over 255 bytes, a DHCP list
     without its end are build errors with file:line:col; a compression
     loop, a forward pointer, a DHCP option running past the end read as
     raw with a note, never a hang or a crash;
     DNS over TCP (dns_tcp, its 2-byte length) included;
  5. sr: a query to a responder this test starts on 127.0.0.1 port 53 is
     answered, matched by id, and the answer dissected (needs root, else
     that part is skipped).
Usage: dns_dhcp.py [PKT]
"""
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import BOOTP, DHCP, DNS, DNSQR, DNSRR, DNSRRMX, IP, TCP, UDP, wrpcap  # noqa: E402
from scapy.layers.dns import dns_compress  # noqa: E402

LO = "ipv4(src=127.0.0.1, dst=127.0.0.1)"
MAC = bytes.fromhex("020000000001")


def ip():
    return IP(src="127.0.0.1", dst="127.0.0.1")


ANSWERS_PKT = ('an=[rr("example.com", a, ttl=300, addr=93.184.216.34), rr("example.com", aaaa, addr6=2001:db8::1), '
               'rr("www.example.com", cname, target="example.com"), rr("example.com", mx, pref=10, exchange="mail.example.com"), '
               'rr("example.com", txt, strings=["hello", "world"]), rr("example.com", srv, rdata=hex"00010002000300"), '
               'rr("1.0.0.127.in-addr.arpa", ptr, ttl=60, target="localhost")], '
               'ns=[rr("example.com", ns, ttl=3600, target="ns1.example.com")], '
               'ar=[rr("ns1.example.com", a, addr=192.0.2.53)]')
ANSWERS_SCAPY = dict(
    an=DNSRR(rrname="example.com", type="A", ttl=300, rdata="93.184.216.34")
    / DNSRR(rrname="example.com", type="AAAA", rdata="2001:db8::1")
    / DNSRR(rrname="www.example.com", type="CNAME", rdata="example.com")
    / DNSRRMX(rrname="example.com", type="MX", preference=10, exchange="mail.example.com")
    / DNSRR(rrname="example.com", type="TXT", rdata=["hello", "world"])
    / DNSRR(rrname="example.com", type="SRV", rdata=b"\x00\x01\x00\x02\x00\x03\x00")
    / DNSRR(rrname="1.0.0.127.in-addr.arpa", type="PTR", ttl=60, rdata="localhost"),
    ns=DNSRR(rrname="example.com", type="NS", ttl=3600, rdata="ns1.example.com"),
    ar=DNSRR(rrname="ns1.example.com", type="A", rdata="192.0.2.53"))

# (name, pkt expression, scapy packet, tshark fields and the values pkt set)
CASES = [
    ("dns defaults", LO + " / udp() / dns()", ip() / UDP(sport=53, dport=53) / DNS(qd=None),
     {"dns.id": "0x0000", "dns.flags.recdesired": "1", "dns.count.queries": "0"}),
    ("dns contract query", "ipv4(dst=127.0.0.1) / udp(sport=5353, dport=53) / dns(id=0x1234, rd=1, qd=[question(\"example.com\", a)])",
     IP(dst="127.0.0.1") / UDP(sport=5353, dport=53) / DNS(id=0x1234, rd=1, qd=DNSQR(qname="example.com", qtype="A")),
     {"dns.id": "0x1234", "dns.qry.name": "example.com", "dns.qry.type": "1", "dns.count.queries": "1"}),
    ("dns every header field", LO + " / udp(sport=53, dport=40000) / dns(id=7, qr=response, opcode=status, aa=1, tc=1, rd=0, ra=1, "
     "z=1, ad=1, cd=1, rcode=nxdomain, qd=[question(\"www.example.com\", aaaa), question(\"version.bind\", txt, qclass=ch)])",
     ip() / UDP(sport=53, dport=40000) / DNS(id=7, qr=1, opcode=2, aa=1, tc=1, rd=0, ra=1, z=1, ad=1, cd=1, rcode=3,
                                             qd=DNSQR(qname="www.example.com", qtype="AAAA") / DNSQR(qname="version.bind", qtype="TXT", qclass="CH")),
     {"dns.id": "0x0007", "dns.flags.rcode": "3", "dns.count.queries": "2", "dns.qry.name": "www.example.com,version.bind"}),
    ("dns records of each type", LO + " / udp(sport=53, dport=5353) / dns(id=0x1234, qr=response, ra=1, qd=[question(\"example.com\", a)], "
     + ANSWERS_PKT + ")",
     ip() / UDP(sport=53, dport=5353) / DNS(id=0x1234, qr=1, ra=1, qd=DNSQR(qname="example.com"), **ANSWERS_SCAPY),
     {"dns.count.answers": "7", "dns.count.auth_rr": "1", "dns.count.add_rr": "1", "dns.a": "93.184.216.34,192.0.2.53",
      "dns.aaaa": "2001:db8::1", "dns.cname": "example.com", "dns.mx.mail_exchange": "mail.example.com",
      "dns.txt": "hello,world", "dns.ptr.domain_name": "localhost", "dns.ns": "ns1.example.com"}),
    ("dns over tcp", LO + " / tcp(sport=40000, dport=53, flags=PSH|ACK) / dns_tcp() / dns(id=0x1234, qd=[question(\"example.com\", a)])",
     ip() / TCP(sport=40000, dport=53, flags="PA") / DNS(id=0x1234, qd=DNSQR(qname="example.com")),
     {"dns.id": "0x1234", "dns.length": "29", "dns.qry.name": "example.com"}),
    ("dns response over tcp", LO + " / tcp(sport=53, dport=40000, flags=PSH|ACK) / dns_tcp() / dns(id=0x1234, qr=response, "
     "qd=[question(\"example.com\", a)], an=[rr(\"example.com\", a, addr=1.2.3.4)])",
     ip() / TCP(sport=53, dport=40000, flags="PA") / DNS(id=0x1234, qr=1, qd=DNSQR(qname="example.com"),
                                                         an=DNSRR(rrname="example.com", rdata="1.2.3.4")),
     {"dns.id": "0x1234", "dns.length": "56", "dns.a": "1.2.3.4"}),
    # BOOTP alone is what scapy builds by default; tshark wants DHCP's cookie after it (None: not shown to tshark).
    ("bootp defaults", LO + " / udp(sport=68, dport=67) / bootp()", ip() / UDP(sport=68, dport=67) / BOOTP(), None),
    ("dhcp defaults", LO + " / udp(sport=68, dport=67) / bootp() / dhcp()",
     ip() / UDP(sport=68, dport=67) / BOOTP() / DHCP(options=["end"]), {"dhcp.type": "1", "dhcp.id": "0x00000000"}),
    ("dhcp contract discover", "ipv4(src=0.0.0.0, dst=255.255.255.255) / udp(sport=68, dport=67) / bootp(chaddr=02:00:00:00:00:01, "
     "xid=0x1234) / dhcp(options=[msgtype(discover), end])",
     IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / BOOTP(chaddr=MAC, xid=0x1234)
     / DHCP(options=[("message-type", "discover"), "end"]),
     {"dhcp.id": "0x00001234", "dhcp.hw.mac_addr": "02:00:00:00:00:01", "dhcp.option.dhcp": "1"}),
    ("bootp every field, dhcp options", LO + " / udp(sport=67, dport=68) / bootp(op=reply, htype=ethernet, hlen=6, hops=1, xid=0xdeadbeef, "
     "secs=3, flags=B, ciaddr=10.0.0.9, yiaddr=10.0.0.5, siaddr=10.0.0.1, giaddr=10.0.0.254, chaddr=02:00:00:00:00:01, "
     "sname=hex\"%s\", file=hex\"%s\") / dhcp(options=[msgtype(offer), server_id(10.0.0.1), "
     "lease_time(3600), requested_addr(10.0.0.5), param_req_list(1, 3, 6, 15), unknown(12, \"host\"), pad, end], "
     "trailer=hex\"000000\")" % ((b"srv" + bytes(61)).hex(), (b"boot.img" + bytes(120)).hex()),
     ip() / UDP(sport=67, dport=68) / BOOTP(op=2, hops=1, xid=0xdeadbeef, secs=3, flags=0x8000, ciaddr="10.0.0.9",
                                             yiaddr="10.0.0.5", siaddr="10.0.0.1", giaddr="10.0.0.254", chaddr=MAC,
                                             sname=b"srv", file=b"boot.img")
     / DHCP(options=[("message-type", "offer"), ("server_id", "10.0.0.1"), ("lease_time", 3600),
                     ("requested_addr", "10.0.0.5"), ("param_req_list", [1, 3, 6, 15]), ("hostname", b"host"),
                     "pad", "end", "pad", "pad", "pad"]),
     {"dhcp.id": "0xdeadbeef", "dhcp.ip.your": "10.0.0.5", "dhcp.option.dhcp": "2", "dhcp.option.dhcp_server_id": "10.0.0.1",
      "dhcp.option.ip_address_lease_time": "3600", "dhcp.option.hostname": "host", "dhcp.hops": "1", "dhcp.file": "boot.img"}),
]

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL", msg)


def build_hex(pkt, expr):
    r = ru.run([pkt, "build", "-e", expr, "--format", "hex"])
    if r.rc != 0:
        fail("build %s: %s" % (expr, r.err.strip()))
        return None
    return r.out.strip()


def check_build_and_tshark(pkt, tmp):
    built = []
    for name, expr, sc, _ in CASES:
        h = build_hex(pkt, expr)
        want = bytes(sc).hex()
        if h != want:
            fail("%s: pkt %s\n      scapy %s" % (name, h, want))
        else:
            print("ok   build", name)
        built.append(bytes.fromhex(h or want))
    if not shutil.which("tshark"):
        print("SKIP tshark: not found")
        return
    pcap = os.path.join(tmp, "built.pcap")
    ru.write_pcap(pcap, 101, built)
    for i, (name, _, _, fields) in enumerate(CASES):
        if fields is None:
            continue
        names = sorted(fields)
        r = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "frame.number == %d" % (i + 1), "-T", "fields",
                            "-E", "separator=\t", "-E", "aggregator=,", "-e", "_ws.malformed", "-e", "_ws.expert.severity"]
                           + sum((["-e", f] for f in names), []), capture_output=True, text=True)
        cols = r.stdout.rstrip("\n").split("\t")
        if r.returncode != 0 or len(cols) != 2 + len(names):
            fail("tshark %s: %s %s" % (name, r.stdout, r.stderr))
            continue
        if cols[0] or cols[1]:
            v = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "frame.number == %d" % (i + 1), "-V"], capture_output=True, text=True)
            fail("tshark %s: malformed %r, expert %r\n%s" % (name, cols[0], cols[1], v.stdout[-3000:]))
            continue
        bad = [(f, cols[2 + k], fields[f]) for k, f in enumerate(names) if cols[2 + k] != fields[f]]
        if bad:
            fail("tshark %s: fields (name, tshark, expected) %s" % (name, bad))
        else:
            print("ok   tshark", name)


def check_read(pkt, tmp):
    scapy_pkts = [sc for _, _, sc, _ in CASES]
    dns = DNS(id=0x1234, qr=1, ra=1, qd=DNSQR(qname="example.com"), **ANSWERS_SCAPY)
    scapy_pkts.append(ip() / UDP(sport=53, dport=5353) / dns_compress(dns))
    pcap = os.path.join(tmp, "scapy.pcap")
    wrpcap(pcap, scapy_pkts)
    r = ru.run([pkt, "read", pcap, "--format", "pkt"])
    lines = [ln for ln in r.out.splitlines() if ln.startswith("packet ")]
    if r.rc != 0 or len(lines) != len(scapy_pkts):
        fail("read --format pkt: rc %s, %d lines\n%s%s" % (r.rc, len(lines), r.out, r.err))
        return
    for ln, sc in zip(lines, scapy_pkts):
        expr = ln.split("=", 1)[1].strip()
        h = build_hex(pkt, expr)
        if h != bytes(sc).hex():
            fail("read and rebuild:\n  %s\n  pkt   %s\n  scapy %s" % (ln, h, bytes(sc).hex()))
        elif "[" in ln and "raw" in ln.split("/")[-1]:
            fail("read as raw: %s" % ln)
        else:
            print("ok   read, rebuild", ln[:110])
    # Field values, as json.
    r = ru.run([pkt, "read", pcap, "--format", "json"])
    pk = [json.loads(x) for x in r.out.splitlines() if x.strip()]
    text = json.dumps(pk[3])  # dns records of each type
    for want in ('"qname": "example.com"', '"rrname": "1.0.0.127.in-addr.arpa"', '"93.184.216.34"', '"2001:db8::1"', '"mail.example.com"', '"localhost"', '"ns1.example.com"'):
        if want not in text:
            fail("json of the records lacks %s: %s" % (want, text[:2000]))
    text = json.dumps(pk[9])  # bootp every field, dhcp options
    for want in ('"10.0.0.5"', '3735928559', '"02:00:00:00:00:01"', '3600'):
        if want not in text:
            fail("json of the offer lacks %s: %s" % (want, text[:2000]))
    # Compressed: the names keep their pointers (`@12`), which build the same bytes.
    if '"@12"' not in lines[-1] or 'target="ns1.@12"' not in lines[-1]:
        fail("compressed names: %s" % lines[-1])
    print("ok   read json values, compressed names")
    check_shown_names(pkt, pcap, len(scapy_pkts), pk[-1])


def check_shown_names(pkt, pcap, frame, js):
    """show and json give a compressed name followed, as tshark shows it."""
    fields = js["layers"][-1]["fields"]
    got_q = [q["qname"] for q in fields["qd"]]
    got_r = [r["rrname"] for lst in ("an", "ns", "ar") for r in fields[lst]]
    got_t = [r[k] for lst in ("an", "ns", "ar") for r in fields[lst] for k in ("target", "exchange") if k in r]
    wires = [r["rrname_wire"] for lst in ("an", "ns", "ar") for r in fields[lst] if "rrname_wire" in r]
    if not wires or not all("@" in w for w in wires) or any("@" in n for n in got_q + got_r + got_t):
        fail("json: compressed names not followed, or no NAME_wire: %s" % json.dumps(fields)[:2000])
    show = ru.run([pkt, "read", pcap, "--format", "show"]).out
    for n in got_r + got_t:
        if '"%s"' % n not in show:
            fail("show lacks the name %s:\n%s" % (n, show[-3000:]))
    if '"example.com" (compressed: "@12")' not in show:
        fail("show: no name shown followed with its pointer:\n%s" % show[-3000:])
    if not shutil.which("tshark"):
        print("SKIP tshark names: not found")
        return
    r = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "frame.number == %d" % frame, "-T", "fields",
                        "-E", "separator=\t", "-E", "aggregator=,", "-e", "dns.qry.name", "-e", "dns.resp.name",
                        "-e", "dns.cname", "-e", "dns.mx.mail_exchange", "-e", "dns.ptr.domain_name", "-e", "dns.ns"],
                       capture_output=True, text=True)
    cols = r.stdout.rstrip("\n").split("\t")
    if r.returncode != 0 or len(cols) != 6:
        fail("tshark names: %s %s" % (r.stdout, r.stderr))
        return
    want_t = sorted(",".join(cols[2:]).split(","))
    # tshark gives an SRV record's name as its service and protocol, not dns.resp.name.
    got_r = [r["rrname"] for lst in ("an", "ns", "ar") for r in fields[lst] if r["type"] != 33]
    if cols[0].split(",") != got_q or cols[1].split(",") != got_r or sorted(got_t) != want_t:
        fail("names (pkt json, tshark): %s %s %s / %s" % (got_q, got_r, got_t, cols))
    else:
        print("ok   compressed names followed as tshark shows them:", cols[1])


def check_bad(pkt, tmp):
    long_label = "a" * 64
    long_name = ".".join(["abcdefghi"] * 26)  # 26 * 10 + 1 = 261 bytes
    cases = [
        ('dns(qd=[question("%s.com", a)])' % long_label, "is 64 bytes; a label is at most 63"),
        ('dns(qd=[question("%s", a)])' % long_name, "a name is at most 255"),
        ('dns(qd=[question("a..b", a)])', "empty label"),
        ('dhcp(options=[msgtype(discover)])', "ends with 'end'"),
        ('dhcp(options=[end, pad])', "nothing may follow it"),
    ]
    for expr, want in cases:
        path = os.path.join(tmp, "bad.pkt")
        with open(path, "w") as f:
            f.write("packet p = ipv4() / udp() / %s\n" % expr)
        r = ru.run([pkt, "check", path])
        if r.rc != 1 or want not in r.err or "bad.pkt:1:" not in r.err or "^" not in r.err:
            fail("bad build %s: rc %s %s" % (expr, r.rc, r.err))
        else:
            print("ok   build error:", r.err.splitlines()[0][:120])
    reads = [
        ("dns", "123481800001000000000000c00c00010001", ": a loop"),
        ("dns", "123481800001000000000000c00e00010001c00c", ": a loop"),
        ("dns", "12348180000100000000000040414243", "neither a length"),
        # www, then back to its own start: each pointer points before itself, yet it loops.
        ("dns", "12348180000100000000000003777777c00c00010001", ": a loop"),
        ("dns", "123481800002000000000000076578616d706c6503636f6d0000010001", "the bytes end after 1"),
        ("dns", "1234818000000001000000000000010001000000000004c000", "rr.addr"),
        ("dhcp", "63825363350101", "runs past the end without its 'end'"),
        ("dhcp", "638253633505", "none of its options"),
    ]
    for first, h, want in reads:
        r = ru.run([pkt, "read", "--first", first, "--hex", h])
        if r.rc != 0 or " raw " not in r.out or want not in r.out:
            fail("bad read %s %s: rc %s %s %s" % (first, h, r.rc, r.out, r.err))
        else:
            print("ok   read note:", r.out.strip()[:150])


def responder(sock, stop):
    """Answers each query with an A record 127.0.0.1, by scapy, until stop."""
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            data, peer = sock.recvfrom(2000)
        except socket.timeout:
            continue
        q = DNS(data)
        ans = DNS(id=q.id, qr=1, rd=q.rd, ra=1, qd=q.qd, an=DNSRR(rrname=q.qd.qname, type="A", ttl=60, rdata="127.0.0.1"))
        sock.sendto(bytes(ans), peer)


def check_sr(pkt, tmp):
    if os.geteuid() != 0:
        print("SKIP sr: needs root")
        return
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 53))
    except OSError as e:
        print("SKIP sr: cannot bind 127.0.0.1:53: %s" % e)
        return
    stop = threading.Event()
    t = threading.Thread(target=responder, args=(s, stop), daemon=True)
    t.start()
    try:
        path = os.path.join(tmp, "ask.pkt")
        with open(path, "w") as f:
            f.write('packet q = ipv4(dst=127.0.0.1) / udp(sport=5353, dport=53) / dns(id=0x4242, qd=[question("example.com", a)])\n'
                    "sr q timeout 2s\n")
        env = dict(os.environ, PKT_SCOPE="127.0.0.0/8")
        r = subprocess.run([pkt, "run", path], capture_output=True, text=True, timeout=30, env=env)
        out = r.stdout
        if r.returncode != 0 or "1 answered" not in out or "dns response id 16962" not in out:
            fail("sr: rc %s\n%s%s" % (r.returncode, out, r.stderr))
        else:
            print("ok   sr:", out.strip().splitlines()[0][:200])
        # The same from Lua, the answer's fields dissected.
        with open(path, "w") as f:
            f.write('lua {\n  local r = sr1(packet(\'ipv4(dst=127.0.0.1) / udp(sport=5354, dport=53) / '
                    'dns(id=0x4343, qd=[question("example.com", a)])\'), {timeout = 2})\n'
                    '  print(r and r.dns.id, r and r.dns.ancount, r and tostring(r))\n}\n')
        r = subprocess.run([pkt, "run", path], capture_output=True, text=True, timeout=30, env=env)
        if r.returncode != 0 or not r.stdout.startswith("17219\t1\t"):
            fail("sr1 from Lua: rc %s\n%s%s" % (r.returncode, r.stdout, r.stderr))
        else:
            print("ok   sr1:", r.stdout.strip()[:200])
    finally:
        stop.set()
        t.join()
        s.close()


def main():
    pkt = ru.pkt_path(sys.argv[1] if len(sys.argv) > 1 else None)
    tmp = tempfile.mkdtemp(prefix="pkt-dns-")
    try:
        check_build_and_tshark(pkt, tmp)
        check_read(pkt, tmp)
        check_bad(pkt, tmp)
        check_sr(pkt, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("%d failure(s)" % len(FAILS))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
