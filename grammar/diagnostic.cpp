#include "diagnostic.hpp"

#include <algorithm>
#include <deque>
#include <mutex>

#include <fmt/format.h>

namespace pkt {

const Source* Source::make(std::string name, std::string text) {
  // Never freed: a Pos may be printed at any time, even during exit.
  static std::mutex mutex;
  static auto* sources = new std::deque<Source>;
  std::lock_guard<std::mutex> lock(mutex);
  sources->push_back(Source{std::move(name), std::move(text)});
  return &sources->back();
}

std::string format_error(const ScriptError& e, bool color) {
  const Pos& p = e.pos();
  const std::string name = p.src ? p.src->name : "pkt";
  const char* error = color ? "\x1b[1;31merror:\x1b[0m" : "error:";
  if (p.src == nullptr || p.line == 0) return fmt::format("{}: {} {}", name, error, e.what());

  std::string out = fmt::format("{}:{}:{}: {} {}\n", name, p.line, p.col, error, e.what());
  const std::string& t = p.src->text;
  const std::size_t offset = std::min<std::size_t>(p.offset, t.size());
  std::size_t begin = offset == 0 ? 0 : t.rfind('\n', offset - 1) + 1;  // npos + 1 == 0
  std::size_t end = t.find('\n', begin);
  if (end == std::string::npos) end = t.size();
  if (end > begin && t[end - 1] == '\r') --end;
  // A very long line is shown as a window around the caret, marked with "...".
  constexpr std::size_t kWindow = 100;
  std::string lead = "    ", tail;
  if (end - begin > 2 * kWindow) {
    std::size_t b = offset > begin + kWindow ? offset - kWindow : begin;
    std::size_t e = std::min(end, std::max(offset, b) + kWindow);
    while (b > begin && (static_cast<unsigned char>(t[b]) & 0xc0) == 0x80) --b;  // whole UTF-8 characters
    while (e < end && (static_cast<unsigned char>(t[e]) & 0xc0) == 0x80) ++e;
    if (b > begin) lead += "...";
    if (e < end) tail = "...";
    begin = b;
    end = e;
  }
  out += lead;
  out.append(t, begin, end - begin);
  out += tail;
  out += "\n";
  out.append(lead.size(), ' ');
  // Keep tabs so the caret lines up; one space per character (not per
  // UTF-8 continuation byte).
  for (std::size_t i = begin; i < offset && i < end; ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == '\t') out += '\t';
    else if ((c & 0xc0) != 0x80) out += ' ';
  }
  out += color ? "\x1b[1;32m^\x1b[0m" : "^";
  return out;
}

namespace {

// Optimal string alignment distance: Levenshtein plus adjacent
// transpositions, so a typo like `dts` is one edit from `dst`.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string nearest_name(const std::string& word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = &c;
    }
  }
  return best ? *best : std::string();
}

}  // namespace pkt
