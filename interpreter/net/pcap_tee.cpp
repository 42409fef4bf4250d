#include "pcap_tee.hpp"

#include <cstring>

#include "pcap_writer.hpp"

namespace pkt {

namespace {
constexpr std::size_t kHeader = 4 + 8 + 8;
}

PcapTee::PcapTee(PcapWriter& w) : w_(w) {
  pending_.reserve(1u << 20);
  thread_ = std::thread([this] { run(); });
}

PcapTee::~PcapTee() {
  try {
    finish();
  } catch (...) {
  }
}

void PcapTee::add(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n, std::int64_t sec,
                  std::int64_t usec) {
  if (n == 0) return;
  std::size_t need = 0;
  for (std::size_t i = 0; i < n; ++i) need += kHeader + lens[i];
  std::unique_lock<std::mutex> lock(mu_);
  // Backpressure: a slow disk slows the send rather than growing memory.
  wake_senders_.wait(lock, [&] { return pending_.size() < kMaxPending || error_ || done_; });
  const std::size_t at = pending_.size();
  pending_.resize(at + need);
  std::uint8_t* o = pending_.data() + at;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t len = static_cast<std::uint32_t>(lens[i]);
    std::memcpy(o, &len, 4);
    std::memcpy(o + 4, &sec, 8);
    std::memcpy(o + 12, &usec, 8);
    std::memcpy(o + kHeader, pkts[i], lens[i]);
    o += kHeader + lens[i];
  }
  if (!writing_) wake_writer_.notify_one();
}

void PcapTee::run() {
  std::vector<std::uint8_t> buf;
  buf.reserve(1u << 20);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_writer_.wait(lock, [&] { return !pending_.empty() || done_; });
    if (pending_.empty() && done_) break;
    buf.swap(pending_);
    writing_ = true;
    lock.unlock();
    wake_senders_.notify_all();
    try {
      for (std::size_t off = 0; off + kHeader <= buf.size();) {
        std::uint32_t len;
        std::int64_t sec, usec;
        std::memcpy(&len, buf.data() + off, 4);
        std::memcpy(&sec, buf.data() + off + 4, 8);
        std::memcpy(&usec, buf.data() + off + 12, 8);
        w_.write(buf.data() + off + kHeader, len, sec, usec);
        off += kHeader + len;
      }
    } catch (...) {
      lock.lock();
      if (!error_) error_ = std::current_exception();
      lock.unlock();
    }
    buf.clear();
    lock.lock();
    writing_ = false;
  }
}

void PcapTee::finish() {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  wake_writer_.notify_one();
  wake_senders_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (error_) std::rethrow_exception(error_);
  w_.flush();
}

}  // namespace pkt
