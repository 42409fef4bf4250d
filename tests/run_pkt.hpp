// Running the pkt binary from a Catch2 test: a scratch directory removed
// with its files, and `pkt ARGS` with stdout and stderr captured and timed.
// Shared by test_lua and test_sandbox (PKT_BINARY is set by CMake).
#pragma once

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pkt_test {

// A scratch directory, removed with its files: under `base`, or under
// $TMPDIR (else /tmp) when base is empty.
struct TempDir {
  std::string path;
  explicit TempDir(std::string base = "") {
    if (base.empty()) {
      const char* t = std::getenv("TMPDIR");
      base = t && *t ? t : "/tmp";
    }
    std::string tmpl = base + "/pkt_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
    path = buf.data();
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return path + "/" + name; }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string quote(const std::string& s) {
  std::string q = "'";
  q += s;
  q += '\'';
  return q;
}

struct Proc {
  int rc = -1;
  std::string out, err;
  double seconds = 0;
};

// Runs `[PREFIX] pkt ARGS` through the shell (PREFIX: environment settings
// or a command such as `env -u PKT_SCOPE`); stdout and stderr captured, timed.
inline Proc run_pkt(const std::vector<std::string>& args, const std::string& prefix = "") {
  TempDir d;
  std::string cmd = prefix + (prefix.empty() ? "" : " ") + quote(PKT_BINARY);
  for (auto& a : args) {
    cmd += ' ';
    cmd += quote(a);
  }
  cmd += " 2>";
  cmd += quote(d.file("err"));
  Proc p;
  auto t0 = std::chrono::steady_clock::now();
  std::FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) p.out.append(buf, n);
  int status = pclose(f);
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  p.err = slurp(d.file("err"));
  return p;
}

}  // namespace pkt_test
