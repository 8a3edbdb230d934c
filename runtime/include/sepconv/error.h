// The one exception type sepconv throws for bad arguments.
#pragma once

#include <stdexcept>
#include <string>

namespace sepconv {

// Bad input: the message names the argument, its value and what was expected,
// in TensorFlow's wording where TensorFlow has one. Nothing has been written
// to any output when it is thrown.
class Error : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

}  // namespace sepconv
