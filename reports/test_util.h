// Helpers shared by reports_test and reports_browser_test (no std::regex: GCC 12's <regex>
// trips -Wmaybe-uninitialized in the sanitizer build).
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace tidemark::reports::testing {

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when an attribute src= or href= (any case, optional quotes and spaces) holds a URL that
// would make the browser contact a host: "//", "http://" or "https://".
inline bool NamesRemoteUrl(std::string_view html) {
  std::string page = Lower(html);
  for (std::string_view attr : {"src", "href"}) {
    for (size_t p = page.find(attr); p != std::string::npos; p = page.find(attr, p + 1)) {
      size_t i = p + attr.size();
      while (i < page.size() && std::isspace(static_cast<unsigned char>(page[i]))) ++i;
      if (i >= page.size() || page[i] != '=') continue;
      ++i;
      while (i < page.size() && (std::isspace(static_cast<unsigned char>(page[i])) ||
                                 page[i] == '"' || page[i] == '\''))
        ++i;
      std::string_view rest = std::string_view(page).substr(i);
      if (rest.substr(0, 2) == "//" || rest.substr(0, 7) == "http://" ||
          rest.substr(0, 8) == "https://")
        return true;
    }
  }
  return false;
}

// Occurrences of `needle` in `s`.
inline size_t Count(std::string_view s, std::string_view needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace tidemark::reports::testing
