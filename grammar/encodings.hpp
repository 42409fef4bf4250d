// Text encodings of bytes: hex and base64 (RFC 4648).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pkt {

std::string hex_encode(std::string_view bytes);  // lowercase, no separators
// Accepts upper/lower case and whitespace between digits. nullopt on an odd
// digit count or a non-hex character; *bad_index (if given) is its index.
std::optional<std::string> hex_decode(std::string_view text, std::size_t* bad_index = nullptr);

std::string base64_encode(std::string_view bytes);
// Standard alphabet with '=' padding; whitespace ignored. nullopt if invalid.
std::optional<std::string> base64_decode(std::string_view text, std::size_t* bad_index = nullptr);

}  // namespace pkt
