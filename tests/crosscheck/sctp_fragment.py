#!/usr/bin/python3
"""SCTP and fragment() against scapy and tshark, and through `pkt read`.

  1. SCTP: each pkt expression builds scapy's bytes (the CRC32c included):
     defaults, every field of every chunk set, several chunks with each
     padding length, IPv6, and a generator over sport (each packet's CRC);
  2. tshark (CRC32c validation on) judges every CRC Good, and Bad for the
     one deliberately wrong; it reports no expert info or malformed packet,
     and the ports, tag and chunk types pkt set;
  3. scapy writes a pcap of SCTP packets; `pkt read` gives the same field
     values and its --format pkt text rebuilds the same bytes; a chunk of
     length 0 makes the sctp layer raw with a note (no hang), and building
     one is an error;
  4. fragment(): IPv4 (with options, Ethernet below) and IPv6 (header
     inserted, or the packet's own, with a hop-by-hop header) for several
     sizes equal scapy's fragment() and fragment6(); tshark reassembles them
     into the whole datagram; a size that is not a multiple of 8 is an error.

Usage: sctp_fragment.py [PKT]
"""
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import readutil as ru  # noqa: E402

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IP, IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, RouterAlert, Ether, UDP, TCP, Raw, fragment, fragment6, wrpcap  # noqa: E402
from scapy.layers.inet import IPOption_RR  # noqa: E402
from scapy.layers.sctp import (SCTP, SCTPChunkData, SCTPChunkInit, SCTPChunkInitAck, SCTPChunkSACK,  # noqa: E402
                               SCTPChunkHeartbeatReq, SCTPChunkParamHeartbeatInfo, SCTPChunkAbort,
                               SCTPChunkShutdown, SCTPChunkParamStateCookie)

V4 = "ipv4(src=127.0.0.1, dst=127.0.0.1)"


def ip4():
    return IP(src="127.0.0.1", dst="127.0.0.1")


def data(**kw):
    base = dict(reserved=0, tsn=0, stream_id=0, stream_seq=0, proto_id=0)
    base.update(kw)
    return SCTPChunkData(**base)


INIT0 = dict(flags=0, init_tag=0, a_rwnd=0, n_out_streams=0, n_in_streams=0, init_tsn=0)

# (pkt expression, scapy packet, chunk types tshark must list)
SCTP_CASES = [
    (V4 + " / sctp()", ip4() / SCTP(), ""),
    (V4 + " / sctp(sport=5000, dport=80, vtag=0xdeadbeef, chunks=[init(init_tag=0x01020304, a_rwnd=65535, n_out=10,"
     " n_in=65535, init_tsn=0x55aa)])",
     ip4() / SCTP(sport=5000, dport=80, tag=0xdeadbeef) / SCTPChunkInit(flags=0, init_tag=0x01020304, a_rwnd=65535,
                                                                         n_out_streams=10, n_in_streams=65535,
                                                                         init_tsn=0x55aa), "1"),
    # Every field of every chunk set.
    (V4 + " / sctp(sport=1, dport=2, vtag=0x11223344, chunks=[data(flags=I|U|B|E, tsn=7, stream=1, ssn=2, ppid=46,"
     " data=\"hello\"), init(flags=0, init_tag=5, a_rwnd=1000, n_out=3, n_in=4, init_tsn=9, params=hex\"000500087f000001\"),"
     " sack(cum_tsn=4, a_rwnd=5, gaps=[1, 2, 4, 5], dups=[7]), heartbeat(info=\"abcdefgh\"),"
     " abort(flags=T, causes=hex\"0001000800050000\"), shutdown(cum_tsn=8),"
     " init_ack(init_tag=6, a_rwnd=7, n_out=8, n_in=9, init_tsn=10, params=hex\"0007000801020304\")])",
     ip4() / SCTP(sport=1, dport=2, tag=0x11223344)
     / data(delay_sack=1, unordered=1, beginning=1, ending=1, tsn=7, stream_id=1, stream_seq=2, proto_id=46,
            data=b"hello")
     / SCTPChunkInit(flags=0, init_tag=5, a_rwnd=1000, n_out_streams=3, n_in_streams=4, init_tsn=9,
                     params=b"\x00\x05\x00\x08\x7f\x00\x00\x01")
     / SCTPChunkSACK(flags=0, cumul_tsn_ack=4, a_rwnd=5, gap_ack_list=["1:2", "4:5"], dup_tsn_list=[7])
     / SCTPChunkHeartbeatReq(flags=0, params=[SCTPChunkParamHeartbeatInfo(data=b"abcdefgh")])
     / SCTPChunkAbort(reserved=0, TCB=1, error_causes=b"\x00\x01\x00\x08\x00\x05\x00\x00")
     / SCTPChunkShutdown(flags=0, cumul_tsn_ack=8)
     / SCTPChunkInitAck(flags=0, init_tag=6, a_rwnd=7, n_out_streams=8, n_in_streams=9, init_tsn=10,
                        params=[SCTPChunkParamStateCookie(cookie=b"\x01\x02\x03\x04")]), "0,1,3,4,6,7,2"),
    # Several DATA chunks: padding of 3, 2, 1 and 0 bytes.
    (V4 + " / sctp(sport=9, dport=9, vtag=1, chunks=[data(tsn=1, data=\"a\"), data(tsn=2, data=\"ab\"),"
     " data(tsn=3, data=\"abc\"), data(tsn=4, flags=E, data=\"abcd\")])",
     ip4() / SCTP(sport=9, dport=9, tag=1) / data(tsn=1, data=b"a") / data(tsn=2, data=b"ab")
     / data(tsn=3, data=b"abc") / data(tsn=4, ending=1, data=b"abcd"), "0,0,0,0"),
    # IPv6, and a heartbeat whose info needs padding (scapy counts it in the chunk length).
    ("ipv6(src=::1, dst=::1) / sctp(sport=2905, dport=2905, vtag=0x10, chunks=[shutdown(cum_tsn=0xffffffff),"
     " sack(cum_tsn=3, a_rwnd=4096, dups=[1, 2])])",
     IPv6(src="::1", dst="::1") / SCTP(sport=2905, dport=2905, tag=0x10) / SCTPChunkShutdown(flags=0, cumul_tsn_ack=0xffffffff)
     / SCTPChunkSACK(flags=0, cumul_tsn_ack=3, a_rwnd=4096, dup_tsn_list=[1, 2]), "7,3"),
    ("ipv6(src=::1, dst=::1) / sctp(chunks=[heartbeat(info=\"abc\")])",
     IPv6(src="::1", dst="::1") / SCTP() / SCTPChunkHeartbeatReq(flags=0, params=[SCTPChunkParamHeartbeatInfo(data=b"abc")]),
     None),  # tshark notes scapy's chunk length (it counts the last parameter's padding)
]
BAD_CRC = (V4 + " / sctp(sport=1, dport=2, checksum=0x12345678, chunks=[shutdown(cum_tsn=1)])", "0")


def ts_fields(pcap, fields, prefs=()):
    cmd = ["tshark", "-n", "-r", pcap, "-o", "sctp.checksum:crc-32c", "-o", "sctp.relative_tsns:FALSE", *prefs,
           "-T", "fields", "-E", "separator=\t", "-E", "aggregator=,"]
    for f in fields:
        cmd += ["-e", f]
    r = ru.run(cmd)
    return r, [line.split("\t") for line in r.out.splitlines()]


def main():
    if not shutil.which("tshark"):
        print("tshark not found")
        return 1
    pkt = ru.pkt_path(sys.argv[1] if len(sys.argv) > 1 else None)
    tmp = tempfile.mkdtemp(prefix="pkt-sctp-frag-")
    fails = 0
    oks = 0

    def check(name, ok, *details):
        nonlocal fails, oks
        if ok:
            oks += 1
            return True
        fails += 1
        print("FAIL: " + name)
        for d in details:
            print("  " + str(d).replace("\n", "\n  "))
        return False

    def build_hex(expr):
        r = ru.run([pkt, "build", "-e", expr, "--format", "hex"])
        return r, r.out.split() if r.rc == 0 else None

    try:
        # 1. SCTP bytes against scapy.
        for i, (expr, sp, _) in enumerate(SCTP_CASES):
            r, got = build_hex(expr)
            check("sctp case %d equals scapy" % i, got == [bytes(sp).hex()], expr, sp.summary(),
                  "pkt:   %s" % (got if got else r.describe()), "scapy: %s" % bytes(sp).hex())
        r, got = build_hex(V4 + " / sctp(sport=1000..1003, dport=[7, 8], chunks=[data(tsn=5, data=\"x\")])")
        want = [bytes(ip4() / SCTP(sport=s, dport=d) / data(tsn=5, data=b"x")).hex() for s in range(1000, 1004)
                for d in (7, 8)]
        check("a generator over sport and dport gives scapy's CRC for each packet", got == want, got, want)

        # 2. tshark: CRC status, expert info, values.
        script = os.path.join(tmp, "sctp.pkt")
        with open(script, "w") as f:
            for i, (expr, _, _) in enumerate(SCTP_CASES):
                f.write("packet c%d = %s\n" % (i, expr))
            f.write("packet bad = %s\n" % BAD_CRC[0])
        pcap = os.path.join(tmp, "sctp.pcap")
        r = ru.run([pkt, "build", script, "--format", "pcap", "-o", pcap])
        check("pkt build --format pcap", r.rc == 0, r.describe())
        r, rows = ts_fields(pcap, ["sctp.checksum.status", "_ws.expert", "_ws.malformed", "sctp.srcport",
                                   "sctp.dstport", "sctp.verification_tag", "sctp.chunk_type"])
        if check("tshark reads every packet", r.rc == 0 and len(rows) == len(SCTP_CASES) + 1, r.describe()):
            for i, (expr, sp, types) in enumerate(SCTP_CASES):
                status, expert, malformed, sport, dport, vtag, ctypes = (rows[i] + [""] * 7)[:7]
                check("tshark: case %d CRC Good" % i, status == "1", expr, rows[i])
                if types is not None:
                    check("tshark: case %d has no expert info or malformed packet" % i, not expert and not malformed,
                          expr, rows[i])
                    check("tshark: case %d chunk types %s" % (i, types), ctypes == types, expr, rows[i])
                s = sp[SCTP]
                check("tshark: case %d ports and tag" % i,
                      (int(sport), int(dport), int(vtag, 16)) == (s.sport, s.dport, s.tag), expr, rows[i])
            check("tshark: the deliberately wrong CRC is Bad", rows[-1][0] == BAD_CRC[1], rows[-1])

        # 3. scapy's pcap read back: same values, same bytes.
        spcap = os.path.join(tmp, "scapy_sctp.pcap")
        pkts = [sp for _, sp, _ in SCTP_CASES if IP in sp]
        wrpcap(spcap, pkts)
        rj = ru.run([pkt, "read", spcap, "--format", "json"])
        rp = ru.run([pkt, "read", spcap, "--format", "pkt"])
        jsons = ru.parse_json_lines(rj.out) if rj.rc == 0 else []
        texts = ru.parse_pkt_lines(rp.out) if rp.rc == 0 else []
        if check("pkt read of scapy's pcap", len(jsons) == len(pkts) == len(texts), rj.describe(), rp.describe()):
            for sp, js, (_, text) in zip(pkts, jsons, texts):
                layer = [l for l in js["layers"] if l["layer"] == "sctp"]
                s = sp[SCTP]
                wire = bytes(sp[SCTP])[8:12]
                ok = bool(layer) and not js.get("notes")
                if ok:
                    f = layer[0]["fields"]
                    ok = (f["sport"], f["dport"], f["vtag"], f["checksum"]) == (
                        s.sport, s.dport, s.tag, int.from_bytes(wire, "little"))
                check("read: values of %s" % sp.summary(), ok, js)
                rb = ru.run([pkt, "build", "-e", text, "--format", "hex"])
                check("read: %s rebuilds the same bytes" % sp.summary(), rb.out.strip() == bytes(sp).hex(), text,
                      rb.describe())
            first = [c for c in jsons[2]["layers"][1]["fields"]["chunks"]]
            check("read: chunk values", [c.get("option") for c in first] ==
                  ["data", "init", "sack", "heartbeat", "abort", "shutdown", "init_ack"] and first[0]["tsn"] == 7
                  and first[0]["data"] == b"hello".hex() and first[2]["gaps"] == [1, 2, 4, 5], first)
        # A chunk of length 0: bytes when reading (never a hang); an error when building.
        zero = bytes(ip4() / SCTP() / Raw(b"\x00\x00\x00\x00" + b"\x00" * 12))
        zpcap = os.path.join(tmp, "zero.pcap")
        ru.write_pcap(zpcap, 101, [zero])
        rz = ru.run([pkt, "read", zpcap, "--format", "json"])
        js = ru.parse_json_lines(rz.out) if rz.rc == 0 else []
        check("read: a chunk of length 0 makes sctp raw with a note, not a hang",
              len(js) == 1 and [l["layer"] for l in js[0]["layers"]] == ["ipv4", "raw"]
              and any("sctp.chunks: element 1 (at byte 0) is none of its options: data.length is 0" in n
                      for n in js[0].get("notes", [])), rz.describe())
        for chunk, why in (("data(length=0, data=\"x\")", "length"),
                           ("data(length=0)", "option data would not read back as one of sctp.chunks's options: "
                                              "data.length is 0, but 16 + len(data) gives 16"),
                           ("shutdown(length=0)", "option shutdown would not read back as one of sctp.chunks's options: "
                                                  "shutdown.length is 0, but len(this) gives 8")):
            rb = ru.run([pkt, "build", "-e", V4 + " / sctp(chunks=[%s])" % chunk, "--format", "hex"])
            check("build: %s is an error" % chunk, rb.rc != 0 and why in rb.err and "<expr>:1:" in rb.err, rb.describe())

        # 4. fragment() against scapy.
        payload = bytes(range(256)) * 3
        for size in (8, 16, 64, 184, 512, 1480):
            for name, expr, sp in (
                    ("ipv4", V4.replace(")", ", id=0x4242)") + " / udp(sport=1, dport=2) / hex\"%s\"" % payload.hex(),
                     IP(src="127.0.0.1", dst="127.0.0.1", id=0x4242) / UDP(sport=1, dport=2) / payload),
                    ("ipv4 with options over eth",
                     "eth(src=02:00:00:00:00:01, dst=02:00:00:00:00:02) / ipv4(src=10.0.0.1, dst=10.0.0.2, id=9, "
                     "flags=DF, options=[rr(0, 0)]) / tcp(sport=3, dport=4) / hex\"%s\"" % payload[:300].hex(),
                     Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                     / IP(src="10.0.0.1", dst="10.0.0.2", id=9, flags="DF", options=[IPOption_RR(routers=["0.0.0.0", "0.0.0.0"])])
                     / TCP(sport=3, dport=4) / payload[:300])):
                r, got = build_hex("fragment(%s, %d)" % (expr, size))
                want = [bytes(q).hex() for q in fragment(sp, size)]
                check("fragment(%s, %d) equals scapy's fragment()" % (name, size), got == want, got, want)
            # IPv6 with its own fragment header, and with one inserted (random id: read it back, give it to scapy).
            expr6 = "ipv6(src=::1, dst=::2) / ipv6_frag(id=0xabcdef01) / udp(sport=5, dport=6) / hex\"%s\"" % payload.hex()
            sp6 = IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment(id=0xabcdef01) / UDP(sport=5, dport=6) / payload
            r, got = build_hex("fragment(%s, %d)" % (expr6, size))
            want = [bytes(q).hex() for q in fragment6(sp6, 40 + 8 + size)]
            check("fragment(ipv6 / ipv6_frag, %d) equals scapy's fragment6()" % size, got == want, got, want)
            r, got = build_hex("fragment(ipv6(src=::1, dst=::2) / udp(sport=5, dport=6) / hex\"%s\", %d)" % (payload.hex(), size))
            ident = int(got[0][88:96], 16) if got else 0
            sp6 = IPv6(src="::1", dst="::2") / IPv6ExtHdrFragment(id=ident) / UDP(sport=5, dport=6) / payload
            want = [bytes(q).hex() for q in fragment6(sp6, 40 + 8 + size)]
            check("fragment(ipv6, %d) inserts scapy's fragment header" % size, got == want, got, want)
        # Extension headers: the packet's own fragment header after a hop-by-hop header stays there (the
        # RFC 8200 order); an inserted one goes right after IPv6, before it, as scapy's fragment6() does.
        for own in (True, False):
            frag_expr = "ipv6_frag(id=9) / " if own else ""
            r, got = build_hex("fragment(ipv6(src=::1, dst=::2) / ipv6_hop(options=[router_alert(0)]) / %sudp(sport=5, "
                               "dport=6) / \"%s\", 16)" % (frag_expr, "z" * 50))
            ident = 9 if own else (int(got[0][88:96], 16) if got else 0)
            sp6 = (IPv6(src="::1", dst="::2") / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
                   / IPv6ExtHdrFragment(id=ident) / UDP(sport=5, dport=6) / (b"z" * 50))
            if not own:
                sp6 = (IPv6(src="::1", dst="::2") / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])
                       / UDP(sport=5, dport=6) / (b"z" * 50))
            frags = fragment6(sp6, 40 + (16 if own else 8) + 16)
            if not own:  # scapy drew its own random id: give it pkt's
                for q in frags:
                    q[IPv6ExtHdrFragment].id = ident
            want = [bytes(q).hex() for q in frags]
            check("fragment(ipv6 / ipv6_hop%s) equals scapy's fragment6()" % (" / ipv6_frag" if own else ""),
                  got == want, got, want)
        # tshark reassembles the fragments: one UDP datagram of the whole length, checksum Good, nothing malformed.
        for ip, field, pref in (("ipv4(src=127.0.0.1, dst=127.0.0.1, id=5)", "ip.fragment.count", "ip.defragment:TRUE"),
                                ("ipv6(src=::1, dst=::1)", "ipv6.fragment.count", "ipv6.defragment:TRUE")):
            fpcap = os.path.join(tmp, "frag.pcap")
            r = ru.run([pkt, "build", "-e", "fragment(%s / udp(sport=1, dport=2) / \"%s\", 64)" % (ip, "A" * 300),
                        "--format", "pcap", "-o", fpcap])
            r, rows = ts_fields(fpcap, [field, "udp.length", "udp.checksum.status", "_ws.malformed", "_ws.expert"],
                                ["-o", pref, "-o", "udp.check_checksum:TRUE"])
            clean = all(not any(row[3:]) for row in rows)
            check("tshark reassembles %s fragments" % ip.split("(")[0],
                  r.rc == 0 and len(rows) == 5 and rows[-1][:3] == ["5", "308", "1"] and clean, r.describe(), rows)
        ids = {build_hex("fragment(ipv6() / udp() / \"%s\", 8)" % ("x" * 20))[1][0][88:96] for _ in range(3)}
        check("fragment(ipv6) draws a new random id", len(ids) > 1, ids)
        r = ru.run([pkt, "build", "-e", "fragment(ipv4() / udp() / \"x\" * 40, 12)", "--format", "hex"])
        check("fragment(P, 12) is an error", r.rc != 0 and "multiple of 8" in r.err, r.describe())
        print("sctp_fragment: %d checks passed, %d failed" % (oks, fails))
        return 0 if fails == 0 else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
