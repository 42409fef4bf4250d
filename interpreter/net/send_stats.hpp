// What a send did, as the user sees it: the final line, the shortfall of an
// asked rate, and the progress line shown on a terminal while it runs.
// (Seam shared by the sender loop and the front ends; see docs/sending.md.)
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace pkt {

struct SendStats {
  std::uint64_t packets = 0;  // packets the kernel accepted (or written, in a dry run)
  std::uint64_t bytes = 0;    // their bytes as sent: the frame, or the IP packet on a raw socket
  double seconds = 0;         // wall time of the send, from before the first packet to after the last
  double asked_pps = 0;       // the rate asked (rate N pps, or 1 / interval), packets/s; 0: as fast as possible
  double asked_bps = 0;       // the rate asked as bits/s (rate N bit); 0: none
  bool interrupted = false;   // stopped by Ctrl-C
  // Joins the parts of one send that ran side by side (threads): the counts
  // add up; the time and the rates asked are the largest of the parts.
  SendStats& operator+=(const SendStats& o);
  // Packets/s and bits/s reached, between the first packet and the last (so
  // 10 packets at 1/s, 9 s apart, reached 1/s); 0 under two packets.
  double pps() const;
  double bps() const;
};

// "sent 1,000,000 packets in 1.23 s (812,000 packets/s, 487 Mbit/s)"
std::string final_line(const SendStats& s);
// "asked 2,000,000 packets/s, reached 812,000" (or in bits/s when a bit rate
// was asked) when the rate reached is more than 2% below the one asked; "" otherwise.
std::string shortfall_line(const SendStats& s);

// The progress line on stderr while a send runs: packets sent, the current
// rate, elapsed time and (total known) an ETA. Redrawn at most 4 times a
// second by its own thread; erased by finish() or the destructor. Disabled
// (no thread, nothing printed) when `enabled` is false: no terminal, --quiet.
class Progress {
 public:
  Progress(bool enabled, std::uint64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // Called by the sender threads after each batch: cheap (relaxed atomics).
  void add(std::uint64_t packets, std::uint64_t bytes) {
    packets_.fetch_add(packets, std::memory_order_relaxed);
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void finish();

 private:
  std::atomic<std::uint64_t> packets_{0}, bytes_{0};
  std::atomic<bool> done_{false};
  std::uint64_t total_;
  bool enabled_;
  std::mutex m_;                 // with cv_: finish() wakes the thread at once
  std::condition_variable cv_;
  std::thread thread_;
  void run();
};

}  // namespace pkt
