// The --pcap tee of a send: sender threads hand it each run of packets the
// kernel accepted, and its own thread writes them to the file, so the file's
// I/O does not slow the send. With several sender threads the file holds all
// their packets, each thread's in its order, whole batches interleaved.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace pkt {

class PcapWriter;

class PcapTee {
 public:
  explicit PcapTee(PcapWriter& w);
  ~PcapTee();  // finish(), errors dropped
  PcapTee(const PcapTee&) = delete;
  PcapTee& operator=(const PcapTee&) = delete;

  // Queues n packets sent at the same time (wall clock, sec and usec). Waits
  // while the writer is more than kMaxPending bytes behind (bounded memory).
  void add(const std::uint8_t* const* pkts, const std::size_t* lens, std::size_t n, std::int64_t sec,
           std::int64_t usec);
  // Writes what is queued, stops the thread and flushes the file; rethrows
  // the first write error. Call once, after the senders are done.
  void finish();

  static constexpr std::size_t kMaxPending = 1u << 20;

 private:
  void run();
  PcapWriter& w_;
  std::mutex mu_;
  std::condition_variable wake_writer_, wake_senders_;
  std::vector<std::uint8_t> pending_;  // records: u32 len, i64 sec, i64 usec, bytes
  bool writing_ = false;               // the writer holds a swapped-out buffer
  bool done_ = false;
  bool finished_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace pkt
