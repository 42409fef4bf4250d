// RawSockets::send_frames through PACKET_TX_RING on lo: every frame counted
// left exactly once, in order, byte for byte, as seen by an AF_PACKET capture
// (with its own TPACKET_V3 ring, so that 100,000 frames sent at full speed are
// all kept); PACKET_QDISC_BYPASS; frames too large for a slot; the sendto
// fallback; Ctrl-C. Frames carry EtherType 0x88b5 (local experimental) and
// go to lo only. Tagged [root]: skipped (with a warning) without root.
#include <catch2/catch.hpp>

#include "skip.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/send.hpp"
#include "net/socket_raw.hpp"

using Bytes = std::vector<std::uint8_t>;
using pkt::net::BatchResult;
using pkt::net::RawSockets;

namespace {

constexpr std::uint16_t kType = 0x88b5;




// A tag unique to this process and call: captures keep only our frames.
std::string tag() {
  static int n = 0;
  std::string t = "txring-" + std::to_string(getpid()) + "-" + std::to_string(++n);
  t.resize(24, '.');
  return t;
}

// Frame `seq` of a run: lo's MACs (zeros), EtherType 0x88b5, the tag, the
// sequence number, then filler up to `size` bytes.
Bytes frame(const std::string& t, std::uint64_t seq, std::size_t size = 89) {
  Bytes f(std::max<std::size_t>(size, 14 + t.size() + 8));
  f[12] = kType >> 8;
  f[13] = kType & 0xff;
  std::memcpy(&f[14], t.data(), t.size());
  for (int i = 0; i < 8; ++i) f[14 + t.size() + i] = static_cast<std::uint8_t>(seq >> (56 - 8 * i));
  for (std::size_t i = 14 + t.size() + 8; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7 + seq);
  return f;
}

unsigned lo_index() { return if_nametoindex("lo"); }

// Everything with EtherType 0x88b5 on lo, both directions, into a 64 MiB
// TPACKET_V3 ring: the sender can outrun a reader, never the ring.
class RingCapture {
 public:
  struct Seen {
    Bytes bytes;
    bool outgoing;
  };

  RingCapture() {
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);  // receives nothing before the filter is in place
    if (fd_ < 0) throw std::runtime_error(std::string("capture socket: ") + std::strerror(errno));
    sock_filter code[] = {
        {0x28, 0, 0, 12},          // ldh [12]
        {0x15, 0, 1, kType},       // jeq #0x88b5
        {0x06, 0, 0, 0x40000},     // ret #262144
        {0x06, 0, 0, 0},           // ret #0
    };
    sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
    check(setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), "filter");
    int v = TPACKET_V3;
    check(setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v), "TPACKET_V3");
    tpacket_req3 req{};
    req.tp_block_size = kBlock;
    req.tp_block_nr = kBlocks;
    req.tp_frame_size = 2048;
    req.tp_frame_nr = kBlock / 2048 * kBlocks;
    req.tp_retire_blk_tov = 100;  // ms: a block is handed over when full, or this long after its first frame
    check(setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req), "PACKET_RX_RING");
    void* m = mmap(nullptr, std::size_t{kBlock} * kBlocks, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (m == MAP_FAILED) throw std::runtime_error(std::string("capture mmap: ") + std::strerror(errno));
    map_ = static_cast<std::uint8_t*>(m);
    sockaddr_ll a{};
    a.sll_family = AF_PACKET;
    a.sll_protocol = htons(ETH_P_ALL);
    a.sll_ifindex = static_cast<int>(lo_index());
    check(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), "bind");
  }
  ~RingCapture() {
    munmap(map_, std::size_t{kBlock} * kBlocks);
    close(fd_);
  }

  // Frames carrying tag `t`, until `want` of them (both directions) or the time is up.
  std::vector<Seen> collect(const std::string& t, std::size_t want, int timeout_ms = 3000) {
    std::vector<Seen> out;
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (out.size() < want) {
      auto* b = reinterpret_cast<tpacket_block_desc*>(map_ + std::size_t{kBlock} * cur_);
      if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
        int left = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
        if (left <= 0) break;
        pollfd p{fd_, POLLIN | POLLERR, 0};
        poll(&p, 1, std::min(left, 50));
        continue;
      }
      auto* h = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<std::uint8_t*>(b) + b->hdr.bh1.offset_to_first_pkt);
      for (unsigned i = 0; i < b->hdr.bh1.num_pkts; ++i) {
        auto* sll = reinterpret_cast<sockaddr_ll*>(reinterpret_cast<std::uint8_t*>(h) + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
        const std::uint8_t* d = reinterpret_cast<std::uint8_t*>(h) + h->tp_mac;
        if (h->tp_snaplen >= 14 + t.size() && std::memcmp(d + 14, t.data(), t.size()) == 0)
          out.push_back({Bytes(d, d + h->tp_snaplen), sll->sll_pkttype == PACKET_OUTGOING});
        h = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<std::uint8_t*>(h) + h->tp_next_offset);
      }
      __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      cur_ = (cur_ + 1) % kBlocks;
    }
    return out;
  }

  unsigned drops() {
    tpacket_stats_v3 st{};
    socklen_t l = sizeof st;
    getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &l);
    drops_ += st.tp_drops;  // reading resets the kernel's counters
    return drops_;
  }

 private:
  static constexpr unsigned kBlock = 1u << 20, kBlocks = 64;
  static void check(int rc, const char* what) {
    if (rc != 0) throw std::runtime_error(std::string("capture ") + what + ": " + std::strerror(errno));
  }
  int fd_ = -1;
  std::uint8_t* map_ = nullptr;
  unsigned cur_ = 0;
  unsigned drops_ = 0;
};

std::vector<RingCapture::Seen> direction(const std::vector<RingCapture::Seen>& all, bool outgoing) {
  std::vector<RingCapture::Seen> out;
  for (auto& s : all)
    if (s.outgoing == outgoing) out.push_back(s);
  return out;
}

// The first index where `seen` differs from the frames expected (seen.size() when none).
std::size_t first_mismatch(const std::vector<RingCapture::Seen>& seen, const std::vector<Bytes>& want) {
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (i >= want.size() || seen[i].bytes != want[i]) return i;
  return seen.size();
}

std::vector<const std::uint8_t*> pointers(const std::vector<Bytes>& v) {
  std::vector<const std::uint8_t*> p;
  for (auto& b : v) p.push_back(b.data());
  return p;
}
std::vector<std::size_t> lengths(const std::vector<Bytes>& v) {
  std::vector<std::size_t> l;
  for (auto& b : v) l.push_back(b.size());
  return l;
}

// PKT_TX_RING for one scope.
struct EnvVar {
  std::string name;
  EnvVar(const char* n, const char* v) : name(n) { setenv(n, v, 1); }
  ~EnvVar() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("send_frames: 100,000 frames on lo leave exactly once, in order, byte for byte", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  const std::size_t n = 100'000;
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < n; ++i) frames.push_back(frame(t, i));
  auto p = pointers(frames);
  auto l = lengths(frames);

  RawSockets s;
  s.open_packet(false, 89);
  REQUIRE(s.tx_ring());
  // Half in one call (more frames than the ring has slots), half in batches of 64.
  BatchResult r = s.send_frames(p.data(), l.data(), n / 2, lo_index());
  CHECK(r.err == 0);
  std::size_t sent = r.sent;
  for (std::size_t i = n / 2; i < n; i += 64) {
    std::size_t k = std::min<std::size_t>(64, n - i);
    BatchResult b = s.send_frames(p.data() + i, l.data() + i, k, lo_index());
    REQUIRE(b.err == 0);
    REQUIRE(b.sent == k);
    sent += b.sent;
  }
  CHECK(sent == n);

  auto all = cap.collect(t, 2 * n);
  CHECK(cap.drops() == 0);
  // Each frame shows up twice on lo: leaving (the tap before the driver) and arriving.
  auto out = direction(all, true), in = direction(all, false);
  CHECK(out.size() == n);
  CHECK(first_mismatch(out, frames) == out.size());
  CHECK(in.size() == n);
  CHECK(first_mismatch(in, frames) == in.size());
  CHECK(cap.collect(t, 1, 200).empty());  // nothing more
}

TEST_CASE("send_frames with bypass: frames skip the qdisc and the taps, and all arrive", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  const std::size_t n = 20'000;
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < n; ++i) frames.push_back(frame(t, i, 60 + i % 1400));  // sizes vary
  auto p = pointers(frames);
  auto l = lengths(frames);

  RawSockets s;
  s.open_packet(true, 1514);
  REQUIRE(s.tx_ring());
  BatchResult r = s.send_frames(p.data(), l.data(), n, lo_index());
  CHECK(r.err == 0);
  CHECK(r.sent == n);
  auto all = cap.collect(t, n);
  CHECK(cap.drops() == 0);
  auto in = direction(all, false);
  CHECK(in.size() == n);
  CHECK(first_mismatch(in, frames) == in.size());
  // PACKET_QDISC_BYPASS hands frames to the driver directly, past the packet
  // taps: none is seen leaving. This is how we know the option took effect.
  CHECK(direction(all, true).empty());
  CHECK(cap.collect(t, 1, 200).empty());

  // Turned off again on the same object: the taps see them leave.
  const std::string t2 = tag();
  std::vector<Bytes> again = {frame(t2, 0), frame(t2, 1)};
  auto p2 = pointers(again);
  auto l2 = lengths(again);
  s.open_packet(false, 1514);
  r = s.send_frames(p2.data(), l2.data(), 2, lo_index());
  CHECK(r.sent == 2);
  auto out = direction(cap.collect(t2, 4), true);
  CHECK(out.size() == 2);
  CHECK(first_mismatch(out, again) == out.size());
}

TEST_CASE("send_frames: a frame larger than a ring slot is sent whole, in its place", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  RawSockets s;
  s.open_packet(false, 100);  // slots for frames of about 100 bytes
  REQUIRE(s.tx_ring());
  std::vector<Bytes> frames = {frame(t, 0), frame(t, 1), frame(t, 2, 9000), frame(t, 3), frame(t, 4, 1514), frame(t, 5)};
  auto p = pointers(frames);
  auto l = lengths(frames);
  BatchResult r = s.send_frames(p.data(), l.data(), frames.size(), lo_index());
  CHECK(r.err == 0);
  CHECK(r.sent == frames.size());
  auto out = direction(cap.collect(t, 2 * frames.size()), true);
  REQUIRE(out.size() == frames.size());
  CHECK(first_mismatch(out, frames) == out.size());
  CHECK(out[2].bytes.size() == 9000);
}

TEST_CASE("send_frames: a frame over the MTU stops the batch with EMSGSIZE, after the ones before it", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  // lo's MTU is 65536: 70,000 bytes are too many, whether the slot could hold them or not.
  for (std::size_t max_frame : {std::size_t{1514}, std::size_t{80'000}}) {
    RawSockets s;
    s.open_packet(false, max_frame);
    REQUIRE(s.tx_ring());
    const std::string t1 = tag();
    std::vector<Bytes> frames = {frame(t1, 0), frame(t1, 1), frame(t1, 2, 70'000), frame(t1, 3)};
    auto p = pointers(frames);
    auto l = lengths(frames);
    BatchResult r = s.send_frames(p.data(), l.data(), frames.size(), lo_index());
    CHECK(r.sent == 2);
    CHECK(r.err == EMSGSIZE);
    auto out = direction(cap.collect(t1, 8, 300), true);
    REQUIRE(out.size() == 2);
    CHECK(first_mismatch(out, frames) == 2);
    // The ring is still usable: the rest goes out after it.
    r = s.send_frames(p.data() + 3, l.data() + 3, 1, lo_index());
    CHECK(r.err == 0);
    CHECK(r.sent == 1);
    out = direction(cap.collect(t1, 2, 1000), true);
    REQUIRE(out.size() == 1);
    CHECK(out[0].bytes == frames[3]);
  }
  (void)t;
}

TEST_CASE("send_frames without a ring (PKT_TX_RING=0) sends through sendto, counted the same", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  EnvVar off("PKT_TX_RING", "0");
  RingCapture cap;
  const std::string t = tag();
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < 5000; ++i) frames.push_back(frame(t, i));
  auto p = pointers(frames);
  auto l = lengths(frames);
  RawSockets s;
  s.open_packet(true, 1514);
  CHECK_FALSE(s.tx_ring());
  BatchResult r = s.send_frames(p.data(), l.data(), frames.size(), lo_index());
  CHECK(r.err == 0);
  CHECK(r.sent == frames.size());
  auto in = direction(cap.collect(t, frames.size()), false);
  CHECK(in.size() == frames.size());
  CHECK(first_mismatch(in, frames) == in.size());
}

TEST_CASE("send_frames stops on Ctrl-C and counts exactly the frames that left", "[txring][root][interrupt]") {
  NEED_ROOT();
  pkt::install_interrupt_handler();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  RawSockets s;
  s.open_packet(false, 89);
  REQUIRE(s.tx_ring());

  // Already interrupted: nothing leaves.
  std::vector<Bytes> one = {frame(t, 0)};
  auto p1 = pointers(one);
  auto l1 = lengths(one);
  raise(SIGINT);
  BatchResult r = s.send_frames(p1.data(), l1.data(), 1, lo_index());
  CHECK(r.sent == 0);
  CHECK(r.err == EINTR);
  pkt::clear_interrupt();
  CHECK(cap.collect(t, 1, 200).empty());

  // Interrupted midway through 3 million frames (pointers cycle over 1000 frames).
  const std::string t2 = tag();
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < 1000; ++i) frames.push_back(frame(t2, i));
  const std::size_t n = 3'000'000;
  std::vector<const std::uint8_t*> p(n);
  std::vector<std::size_t> l(n);
  for (std::size_t i = 0; i < n; ++i) {
    p[i] = frames[i % 1000].data();
    l[i] = frames[i % 1000].size();
  }
  std::thread killer([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    kill(getpid(), SIGINT);
  });
  r = s.send_frames(p.data(), l.data(), n, lo_index());
  killer.join();
  CHECK(pkt::interrupted());
  pkt::clear_interrupt();
  CHECK(r.err == EINTR);
  CHECK(r.sent > 0);
  CHECK(r.sent < n);
  auto all = cap.collect(t2, n, 1500);
  CHECK(cap.drops() == 0);
  auto out = direction(all, true);
  CHECK(out.size() == r.sent);
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].bytes != frames[i % 1000]) FAIL("frame " << i << " differs");
}

// Not run by ctest: `test_txring "[bench]"` (as root, pinned: taskset -c 0)
// prints the socket path's own rate for 1,000,000 copies of the 89-byte
// Ethernet/IPv4/TCP frame of docs/sending.md (TCP checksum 0) on lo, in
// batches of 64: sendto per frame, TX_RING, TX_RING + bypass; with the CPU
// time each took (the sending thread does the loopback delivery too).
TEST_CASE("bench: 1,000,000 frames on lo through each path", "[.][bench]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  const std::string hex = "ffffffffffff00000000000008004500004b0001000040067caa7f0000017f00000104d20009000000000000000050022000000000003031323334353637383930313233343536373839303132333435363738393031323334";
  Bytes f;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) f.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  const std::size_t n = 1'000'000, batch = 64;
  std::vector<const std::uint8_t*> p(batch, f.data());
  std::vector<std::size_t> l(batch, f.size());
  for (const char* mode : {"sendto", "txring", "txring+bypass"}) {
    std::unique_ptr<EnvVar> off;
    if (std::string(mode) == "sendto") off = std::make_unique<EnvVar>("PKT_TX_RING", "0");
    RawSockets s;
    s.open_packet(std::string(mode) == "txring+bypass", f.size());
    auto cpu = [] {
      rusage u{};
      getrusage(RUSAGE_THREAD, &u);
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    };
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu();
    std::size_t sent = 0;
    while (sent < n) {
      BatchResult r = s.send_frames(p.data(), l.data(), std::min(batch, n - sent), lo_index());
      REQUIRE(r.err == 0);
      sent += r.sent;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double busy = cpu() - c0;  // on a shared machine, the CPU time is the steadier figure
    std::printf("%-14s %zu frames in %.2f s: %.0f frames/s; %.2f s of CPU: %.0f frames per CPU second\n", mode, sent,
                secs, static_cast<double>(sent) / secs, busy, static_cast<double>(sent) / busy);
  }
}

TEST_CASE("send_frames: a frame the ring refuses (TP_STATUS_WRONG_FORMAT) stops the batch with EINVAL", "[txring][root]") {
  NEED_ROOT();
  pkt::clear_interrupt();
  RingCapture cap;
  const std::string t = tag();
  RawSockets s;
  s.open_packet(false, 1514);
  REQUIRE(s.tx_ring());
  // 10 bytes: shorter than lo's 14-byte header, so the kernel marks the slot malformed.
  std::vector<Bytes> frames = {frame(t, 0), Bytes(10, 0xab), frame(t, 2)};
  auto p = pointers(frames);
  auto l = lengths(frames);
  BatchResult r = s.send_frames(p.data(), l.data(), 3, lo_index());
  CHECK(r.sent == 1);
  CHECK(r.err == EINVAL);
  // The refused slot is withdrawn; the ring goes on from it.
  r = s.send_frames(p.data() + 2, l.data() + 2, 1, lo_index());
  CHECK(r.sent == 1);
  CHECK(r.err == 0);
  auto out = direction(cap.collect(t, 6, 500), true);
  REQUIRE(out.size() == 2);
  CHECK(out[0].bytes == frames[0]);
  CHECK(out[1].bytes == frames[2]);
}
