// Reads packet records through libpcap: it knows pcap and pcapng, byte
// orders and timestamp units; this file adds record numbers to its errors.
#include "pcap_reader.hpp"

#include <stdio_ext.h>

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <sys/stat.h>

#include <cstdio>
#include <string_view>

#include "pcap_writer.hpp"

namespace pkt {

namespace {

// The first four bytes of every file libpcap reads, in either byte order:
// pcap with microseconds, pcap with nanoseconds, Kuznetzov's modified pcap, pcapng.
bool known_magic(std::uint32_t m) {
  const std::uint32_t swapped = (m >> 24) | ((m >> 8) & 0xff00) | ((m << 8) & 0xff0000) | (m << 24);
  for (std::uint32_t v : {m, swapped})
    if (v == 0xa1b2c3d4 || v == 0xa1b23c4d || v == 0xa1b2cd34 || v == 0x0a0d0d0a) return true;
  return false;
}

// When libpcap refuses a regular file, says why in terms of its first bytes
// (empty, or a magic number no capture format has); "" when they look right.
// Not for pipes: reading them again would take bytes libpcap never saw.
std::string describe_refused(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  if (st.st_size == 0) return fmt::format("'{}' is empty, not a pcap or pcapng file", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  unsigned char b[4] = {};
  const std::size_t got = std::fread(b, 1, sizeof b, f);
  std::fclose(f);
  if (got < sizeof b) return fmt::format("'{}' is not a pcap or pcapng file ({} bytes long)", path, got);
  const std::uint32_t m = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  if (known_magic(m)) return "";
  return fmt::format("'{}' is not a pcap or pcapng file (bad magic 0x{:08x})", path, m);
}

}  // namespace

constexpr std::size_t kBuffer = 1 << 20;

struct PcapReader::Impl {
  std::unique_ptr<char[]> buffer;  // stdio's buffer for the file: outlives pcap (declared first)
  std::string name;  // for messages
  pcap_t* pcap = nullptr;
  bpf_program filter{};
  bool filtered = false;
  int linktype = 0;
  std::uint64_t read = 0;
  // A classic pcap file read from a seekable file: each record's length on
  // disk is checked against the caplen libpcap reports (libpcap cuts a caplen
  // above the snap length down to it without a word). -1: no check.
  long last_pos = -1;
  ~Impl() {
    if (filtered) pcap_freecode(&filter);
    if (pcap) pcap_close(pcap);
  }
};

PcapReader::PcapReader(const std::string& path, const std::string& bpf_filter) : impl_(std::make_unique<Impl>()) {
  const bool stdin_path = path == "-";
  impl_->name = stdin_path ? "standard input" : path;
  const std::string& name = impl_->name;

  char err[PCAP_ERRBUF_SIZE] = "";
  // We open the file so that stdio reads it in large blocks (libpcap reads
  // each record in two small freads); libpcap owns and closes it.
  std::FILE* f = stdin_path ? stdin : std::fopen(path.c_str(), "rb");
  if (f) {
    impl_->buffer.reset(new char[kBuffer]);
    std::setvbuf(f, impl_->buffer.get(), _IOFBF, kBuffer);
    impl_->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!impl_->pcap && !stdin_path) std::fclose(f);
  } else {
    impl_->pcap = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  }
  if (!impl_->pcap) {
    if (!stdin_path)
      if (std::string why = describe_refused(path); !why.empty()) throw PcapError(name, 0, why);
    // libpcap names the file itself when fopen fails ("PATH: reason"); say it once.
    std::string_view msg = err;
    if (const std::string prefix = path + ": "; msg.starts_with(prefix)) msg.remove_prefix(prefix.size());
    throw PcapError(name, 0, fmt::format("cannot read {}: {}", name, msg));
  }
  // Only this thread reads the file: stdio need not lock it for each of
  // libpcap's two reads per record.
  if (std::FILE* f = pcap_file(impl_->pcap)) __fsetlocking(f, FSETLOCKING_BYCALLER);
  const int dlt = pcap_datalink(impl_->pcap);
  impl_->linktype = dlt_to_linktype(dlt);
  if (std::FILE* f = pcap_file(impl_->pcap); f && !stdin_path) {
    const long pos = std::ftell(f);
    std::uint32_t magic = 0;
    if (std::FILE* g = std::fopen(path.c_str(), "rb")) {
      if (std::fread(&magic, sizeof magic, 1, g) != 1) magic = 0;
      std::fclose(g);
    }
    const bool classic = magic == 0xa1b2c3d4 || magic == 0xd4c3b2a1 || magic == 0xa1b23c4d || magic == 0x4d3cb2a1;
    if (classic && pos == 24) impl_->last_pos = pos;
  }

  if (!bpf_filter.empty()) {
    // Compiled for this file's link type; applied in next(), so every record is counted.
    if (pcap_compile(impl_->pcap, &impl_->filter, bpf_filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
      const char* lt = pcap_datalink_val_to_name(dlt);
      throw PcapError(name, 0,
                      fmt::format("{}: bad filter '{}' for link type {}: {}", name, bpf_filter,
                                  lt ? std::string(lt) : std::to_string(impl_->linktype), pcap_geterr(impl_->pcap)));
    }
    impl_->filtered = true;
  }
}

PcapReader::~PcapReader() = default;
PcapReader::PcapReader(PcapReader&&) noexcept = default;
PcapReader& PcapReader::operator=(PcapReader&&) noexcept = default;

int PcapReader::linktype() const { return impl_->linktype; }
std::uint64_t PcapReader::records_read() const { return impl_->read; }
const std::string& PcapReader::name() const { return impl_->name; }

bool PcapReader::next(PcapRecord& r) {
  Impl& im = *impl_;
  for (;;) {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    const int rc = pcap_next_ex(im.pcap, &h, &data);
    if (rc == PCAP_ERROR_BREAK) return false;  // end of file
    const std::uint64_t number = im.read + 1;
    if (rc != 1) {
      // libpcap's own words; its truncation messages all start "truncated".
      const std::string_view msg = pcap_geterr(im.pcap);
      const char* what = msg.starts_with("truncated") ? "truncated" : "damaged";
      throw PcapError(im.name, number, fmt::format("{}: record {} is {} ({})", im.name, number, what, msg));
    }
    im.read = number;
    if (im.last_pos >= 0) {
      // Only a record cut to exactly the snap length can have been cut by
      // libpcap: ask where the file is (an lseek) only then.
      long pos = im.last_pos + 16 + static_cast<long>(h->caplen);
      if (static_cast<int>(h->caplen) == pcap_snapshot(im.pcap) && h->len > h->caplen)
        pos = std::ftell(pcap_file(im.pcap));
      const long on_disk = pos - im.last_pos - 16;
      im.last_pos = pos;
      if (pos >= 0 && on_disk > static_cast<long>(h->caplen))
        throw PcapError(im.name, number,
                        fmt::format("{}: record {} is damaged (its caplen {} is above the snap length {} in the file "
                                    "header, which libpcap would cut it to): the header's snap length or this "
                                    "record's caplen is wrong",
                                    im.name, number, on_disk, pcap_snapshot(im.pcap)));
    }
    // In nanosecond mode tv_usec holds nanoseconds. A pcap record header can
    // hold any 32-bit value there (libpcap reads it as signed).
    const auto frac = h->ts.tv_usec;
    if (frac < 0 || frac > 999999999)
      throw PcapError(im.name, number,
                      fmt::format("{}: record {} is damaged (timestamp fraction {} ns is not in 0..999999999)",
                                  im.name, number, static_cast<long long>(frac)));
    if (im.filtered && pcap_offline_filter(&im.filter, h, data) == 0) continue;
    r.number = number;
    r.sec = h->ts.tv_sec;
    r.nsec = static_cast<std::uint32_t>(frac);
    r.caplen = h->caplen;
    r.len = h->len;
    r.data = data;
    return true;
  }
}

}  // namespace pkt
