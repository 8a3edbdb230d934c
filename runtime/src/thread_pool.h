// The thread pool the kernels' parallel loops run on (see thread_pool.cpp).
#pragma once

namespace sepconv::detail {

// Points Halide's halide_do_par_for at sepconv's pool, unless the
// application installed a parallel runtime of its own first. Idempotent.
void install_thread_pool();

}  // namespace sepconv::detail
