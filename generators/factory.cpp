#include "factory.h"

#include <stdexcept>

// The factories HALIDE_REGISTER_GENERATOR defines. Called directly rather than
// through Halide's registry: the reference also makes the linker keep the
// generator objects of a static library.
namespace halide_register_generator {
#define SEPCONV_GENERATOR_FACTORY(name) \
    namespace name##_ns {               \
    std::unique_ptr<Halide::Internal::AbstractGenerator> factory(const Halide::GeneratorContext &context); \
    }
SEPCONV_GENERATOR_FACTORY(depthwise)
SEPCONV_GENERATOR_FACTORY(pointwise)
SEPCONV_GENERATOR_FACTORY(separable)
#undef SEPCONV_GENERATOR_FACTORY
}  // namespace halide_register_generator

namespace sepconv {

std::unique_ptr<Halide::Internal::AbstractGenerator> create_generator(const std::string &name,
                                                                      const Halide::GeneratorContext &context) {
    namespace g = halide_register_generator;
    if (name == "depthwise") return g::depthwise_ns::factory(context);
    if (name == "pointwise") return g::pointwise_ns::factory(context);
    if (name == "separable") return g::separable_ns::factory(context);
    throw std::invalid_argument("sepconv: no generator named '" + name + "' (depthwise, pointwise, separable)");
}

}  // namespace sepconv
