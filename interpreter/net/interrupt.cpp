// Ctrl-C and SIGTERM: each only sets a flag (SIGTERM is a clean stop too:
// what was sent is flushed to --pcap and counted, as after Ctrl-C). Installed without SA_RESTART so a
// blocking call in the signalled thread returns EINTR; every wait in the
// program is also sliced (at most kSliceNs) so a signal delivered to another
// thread, or just before a wait starts, is seen promptly.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "send.hpp"

namespace pkt {

namespace {
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_signal{0};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT flag must be lock-free");
static_assert(std::atomic<int>::is_always_lock_free, "the signal number must be lock-free");

constexpr std::uint64_t kSliceNs = 50'000'000;  // 50 ms: the longest Ctrl-C goes unnoticed

extern "C" void on_sigint(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
  g_interrupted.store(true, std::memory_order_relaxed);
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking calls return EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_signal.load(std::memory_order_relaxed); }

bool interrupted() { return g_interrupted.load(std::memory_order_relaxed); }

// A Ctrl-C stops one statement (the REPL goes on); a SIGTERM stays, so the program ends.
void clear_interrupt() {
  if (g_signal.load(std::memory_order_relaxed) == SIGTERM) return;
  g_interrupted.store(false, std::memory_order_relaxed);
}

bool sleep_interruptible(std::uint64_t ns) {
  if (interrupted()) return false;
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::uint64_t start = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(now.tv_nsec);
  std::uint64_t deadline = start + ns;
  while (true) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    std::uint64_t t = static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL + static_cast<std::uint64_t>(now.tv_nsec);
    if (t >= deadline) return !interrupted();
    std::uint64_t wake = deadline - t > kSliceNs ? t + kSliceNs : deadline;
    timespec ts{static_cast<time_t>(wake / 1'000'000'000ULL), static_cast<long>(wake % 1'000'000'000ULL)};
    int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
    if (interrupted()) return false;
    if (rc != 0 && rc != EINTR) return !interrupted();  // cannot happen with valid arguments
  }
}

}  // namespace pkt
