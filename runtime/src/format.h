// Formatting values into error messages.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace sepconv {

template <typename Container>
std::string format_list(const Container &values) {
    std::ostringstream s;
    s << '[';
    bool first = true;
    for (const auto &v : values) {
        s << (first ? "" : ", ") << v;
        first = false;
    }
    s << ']';
    return s.str();
}

inline std::string format_float(float v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace sepconv
