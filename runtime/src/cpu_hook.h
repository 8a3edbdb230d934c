// How the dispatcher tells cpu.cpp about kernel calls (see cpu.cpp).
#pragma once

#include <atomic>

namespace sepconv::detail {

void install_isa_hook();
void before_kernel_call();
// kernel_isa: the level this kernel's library chose (-1 until known).
void after_kernel_call(std::atomic<int> &kernel_isa);

}  // namespace sepconv::detail
