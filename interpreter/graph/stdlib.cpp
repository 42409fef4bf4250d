// Loads the stdlib: the embedded stdlib/*.pkt, or the files in $PKT_STDLIB.
#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "layer_def.hpp"
#include "parse.hpp"

namespace pkt {

extern const char* const stdlib_sources[][2];
extern const std::size_t stdlib_source_count;

namespace {
void load(Registry& reg, const Source* src) {
  ast::Script script = parse_script(src);
  for (auto& st : script.stmts) {
    if (st.kind == ast::Stmt::Kind::Layer) reg.define(*st.layer);
    else if (st.kind == ast::Stmt::Kind::Bind) reg.bind(st);
    else if (st.kind == ast::Stmt::Kind::Reply) reg.add_reply(st);
    else if (st.kind == ast::Stmt::Kind::Fragment) reg.add_fragment(st);
    else throw ScriptError(st.pos, "the stdlib may only declare layers, options, bindings and reply rules");
  }
}
}  // namespace

Registry Registry::with_stdlib() {
  Registry reg;
  if (const char* dir = std::getenv("PKT_STDLIB"); dir && *dir) {
    std::vector<std::string> files;
    DIR* d = opendir(dir);
    if (!d) throw std::runtime_error(std::string("PKT_STDLIB=") + dir + ": " + std::strerror(errno));
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".pkt") == 0) files.push_back(n);
    }
    closedir(d);
    if (files.empty()) throw std::runtime_error(std::string("PKT_STDLIB=") + dir + ": no .pkt files there");
    std::sort(files.begin(), files.end());
    for (auto& n : files) {
      std::ifstream in(std::string(dir) + "/" + n);
      if (!in) throw std::runtime_error(std::string("cannot read ") + dir + "/" + n + ": " + std::strerror(errno));
      std::ostringstream ss;
      ss << in.rdbuf();
      load(reg, Source::make(std::string(dir) + "/" + n, ss.str()));
    }
    return reg;
  }
  for (std::size_t i = 0; i < stdlib_source_count; ++i)
    load(reg, Source::make(std::string("stdlib/") + stdlib_sources[i][0], stdlib_sources[i][1]));
  return reg;
}

}  // namespace pkt
