// Writes packets to a pcap file in whole records (the layout libpcap's
// pcap_dump writes), and maps link types through libpcap's own table.
#include "pcap_writer.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <new>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace pkt {

namespace {
constexpr int kSnapLen = 262144;

// The pcap file header of libpcap's own format (native byte order, as
// pcap_dump writes it): magic, version 2.4, thiszone, sigfigs, snaplen, linktype.
struct FileHeader {
  std::uint32_t magic;
  std::uint16_t major, minor;
  std::int32_t thiszone;
  std::uint32_t sigfigs, snaplen, linktype;
};
static_assert(sizeof(FileHeader) == 24);
}  // namespace

// pcap_open_dead takes a DLT_ value and libpcap writes the matching LINKTYPE_
// value to the file (DLT_RAW is 12 or 14 depending on the platform, while
// LINKTYPE_RAW is always 101). libpcap keeps that table private, so both
// directions go through it: a header read back, a header written.
int linktype_to_dlt(int linktype) {
  FileHeader h{0xa1b2c3d4, 2, 4, 0, 0, kSnapLen, static_cast<std::uint32_t>(linktype)};
  std::FILE* f = fmemopen(&h, sizeof h, "rb");
  if (!f) return linktype;
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_fopen_offline(f, err);  // closes f with p
  if (!p) {
    std::fclose(f);
    return linktype;
  }
  const int dlt = pcap_datalink(p);
  pcap_close(p);
  return dlt;
}

int dlt_to_linktype(int dlt) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = open_memstream(&buf, &size);
  if (!f) return dlt;
  int linktype = dlt;
  if (pcap_t* p = pcap_open_dead(dlt, kSnapLen)) {
    if (pcap_dumper_t* d = pcap_dump_fopen(p, f)) {
      f = nullptr;  // the dumper owns it now
      pcap_dump_flush(d);
      FileHeader h;
      if (size >= sizeof h) {
        std::memcpy(&h, buf, sizeof h);
        linktype = static_cast<int>(h.linktype);
      }
      pcap_dump_close(d);
    }
    pcap_close(p);
  }
  if (f) std::fclose(f);
  std::free(buf);
  return linktype;
}

// After a SIGKILL nothing in this process runs again, and the kernel may stop
// a write(2) between two pages of its copy (generic_perform_write checks for a
// fatal signal before each one), leaving half a record. So a small child
// process holds the file and shares the offset of the last whole record; when
// this process is gone (the pipe's write end closes with it) the child cuts the
// file back to that offset and exits. On a clean close the offset is the size.
struct PcapWriter::Guard {
  pid_t pid = -1;
  int pipe_w = -1;
  std::atomic<std::uint64_t>* committed = nullptr;

  // No guard (nullptr) when a process or a pipe cannot be had: the buffer
  // still holds whole records, only a kill inside a write can tear one.
  static std::unique_ptr<Guard> start(int fd, std::uint64_t offset) {
    void* mem = mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    auto g = std::make_unique<Guard>();
    g->committed = new (mem) std::atomic<std::uint64_t>(offset);
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the offset is shared between processes");
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return nullptr;  // ~Guard unmaps
    const pid_t pid = fork();
    if (pid < 0) {
      ::close(p[0]);
      ::close(p[1]);
      return nullptr;
    }
    if (pid == 0) watch(fd, p[0], p[1], g->committed);  // never returns
    ::close(p[0]);
    g->pid = pid;
    g->pipe_w = p[1];
    return g;
  }

  // The child: only async-signal-safe calls (the parent may have threads).
  [[noreturn]] static void watch(int fd, int pipe_r, int pipe_w, const std::atomic<std::uint64_t>* committed) {
    ::close(pipe_w);
    prctl(PR_SET_NAME, "pkt-pcap-guard", 0, 0, 0);
    setpgid(0, 0);  // a Ctrl-C or a kill of pkt's process group is for pkt, not for its guard
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU}) sigaction(sig, &ign, nullptr);
    // Hold nothing else open (a socket, a pipe someone waits on to close).
    const int lo = std::min(fd, pipe_r), hi = std::max(fd, pipe_r);
    if (lo > 0) close_range(0, static_cast<unsigned>(lo - 1), 0);
    if (hi > lo + 1) close_range(static_cast<unsigned>(lo + 1), static_cast<unsigned>(hi - 1), 0);
    close_range(static_cast<unsigned>(hi + 1), ~0U, 0);
    char c;
    for (;;) {
      const ssize_t n = read(pipe_r, &c, 1);
      if (n == 0 || (n < 0 && errno != EINTR)) break;
    }
    const std::uint64_t end = committed->load(std::memory_order_acquire);
    struct stat st {};
    if (fstat(fd, &st) == 0 && static_cast<std::uint64_t>(st.st_size) > end) (void)!ftruncate(fd, static_cast<off_t>(end));
    _exit(0);
  }

  void commit(std::uint64_t offset) { committed->store(offset, std::memory_order_release); }

  ~Guard() {
    if (pipe_w >= 0) ::close(pipe_w);
    if (pid > 0)
      while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    if (committed) munmap(committed, sizeof *committed);
  }
};

namespace {
constexpr std::size_t kBufferBytes = 64 * 1024;     // one write(2) per this much
constexpr std::int64_t kFlushEveryNs = 1'000'000'000;  // and at least once a second

std::int64_t coarse_now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::string records(std::uint64_t n) { return std::to_string(n) + (n == 1 ? " packet" : " packets"); }
}  // namespace

PcapWriter::PcapWriter(const std::string& path, LinkType link, TsPrecision precision)
    : link_(link), precision_(precision), path_(path == "-" ? "standard output" : path) {
  if (path == "-") {
    fd_ = 1;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) throw PcapWriteError("cannot write " + path + ": " + std::strerror(errno));
    own_fd_ = true;
  }
  const FileHeader h{precision == TsPrecision::Nano ? 0xa1b23c4du : 0xa1b2c3d4u,
                     2,
                     4,
                     0,
                     0,
                     kSnapLen,
                     static_cast<std::uint32_t>(link)};
  buf_.reserve(kBufferBytes + 16 + kSnapLen);
  put(&h, sizeof h);
  try {
    flush();  // the header first, the next system call after open: the guard keeps at least it
  } catch (...) {
    if (own_fd_) ::close(fd_);
    fd_ = -1;
    throw;
  }
  struct stat st {};
  if (own_fd_ && fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) guard_ = Guard::start(fd_, offset_);
}

PcapWriter::~PcapWriter() {
  if (fd_ < 0) return;
  flush_quietly();
  if (own_fd_) ::close(fd_);
  guard_.reset();
}

void PcapWriter::put(const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  buf_.insert(buf_.end(), p, p + n);
}

// The file keeps every record before the failed write and nothing of it: a
// partial write is cut back to the last record boundary.
void PcapWriter::fail(int err) {
  if (own_fd_) {
    struct stat st {};
    if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) && static_cast<std::uint64_t>(st.st_size) > offset_)
      (void)!ftruncate(fd_, static_cast<off_t>(offset_));
  }
  error_ = "cannot write " + path_ + ": " + std::strerror(err);
  if (offset_ > 0)
    error_ += written_ ? " (the file keeps the first " + records(written_) + ", whole)" : " (the file keeps no packets)";
  buf_.clear();
  buffered_ = 0;
  throw PcapWriteError(error_);
}

void PcapWriter::flush() {
  if (!error_.empty()) throw PcapWriteError(error_);
  if (fd_ < 0) throw PcapWriteError("cannot write " + path_ + ": it is closed");
  std::size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;  // a Ctrl-C: finish this buffer, the caller stops after it
    if (n <= 0) fail(n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  offset_ += buf_.size();
  written_ += buffered_;
  buf_.clear();
  buffered_ = 0;
  last_flush_ns_ = coarse_now_ns();
  if (guard_) guard_->commit(offset_);
}

void PcapWriter::flush_quietly() noexcept {
  try {
    flush();
  } catch (const std::exception&) {
    // kept in error_ for the next flush() or close()
  }
}

void PcapWriter::close() {
  if (fd_ < 0) return;
  flush_quietly();
  if (own_fd_ && ::close(fd_) != 0 && error_.empty())
    error_ = "cannot write " + path_ + ": " + std::strerror(errno);
  fd_ = -1;
  guard_.reset();
  if (!error_.empty()) throw PcapWriteError(error_);
}

void PcapWriter::write(const std::uint8_t* data, std::size_t n) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  write(data, n, us / 1000000, us % 1000000);
}

void PcapWriter::write(const std::uint8_t* data, std::size_t n, std::int64_t sec, std::int64_t usec) {
  // A pcap record holds at most the snap length; cutting a packet short would be silent.
  if (n > kSnapLen)
    throw std::runtime_error("a packet of " + std::to_string(n) + " bytes is larger than a pcap record can hold (" +
                             std::to_string(kSnapLen) + " bytes)");
  // The file's fraction is in its own precision: microseconds become nanoseconds.
  const std::int64_t frac = precision_ == TsPrecision::Nano ? usec * 1000 : usec;
  dump(data, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(n), sec, frac);
}

void PcapWriter::write_record(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                              std::uint32_t nsec) {
  if (caplen > kSnapLen)
    throw std::runtime_error("a record of " + std::to_string(caplen) + " bytes is larger than a pcap record can hold (" +
                             std::to_string(kSnapLen) + " bytes)");
  dump(data, caplen, len, sec, precision_ == TsPrecision::Nano ? nsec : nsec / 1000);
}

// A record header as libpcap writes it (native byte order, 32-bit seconds),
// then the bytes; the buffer goes out once it holds kBufferBytes.
void PcapWriter::dump(const std::uint8_t* data, std::uint32_t caplen, std::uint32_t len, std::int64_t sec,
                      std::int64_t frac) {
  if (!error_.empty()) throw PcapWriteError(error_);
  const std::uint32_t h[4] = {static_cast<std::uint32_t>(sec), static_cast<std::uint32_t>(frac), caplen, len};
  put(h, sizeof h);
  put(data, caplen);
  ++buffered_;
  ++count_;
  if (buf_.size() >= kBufferBytes || coarse_now_ns() - last_flush_ns_ >= kFlushEveryNs) flush();
}

}  // namespace pkt
