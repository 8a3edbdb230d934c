// The kernels' workspace: what Halide's halide_malloc hands the generated
// code for its scratch (see workspace.cpp).
#pragma once

#include <cstddef>

namespace sepconv::detail {

// Puts the per-thread workspace cache in front of the halide_malloc /
// halide_free that are in place now (Halide's defaults, or the user's own),
// which then only see the cache's misses. Idempotent.
void install_workspace_cache();

// The cache's limits, per thread.
inline constexpr int kWorkspaceBlocks = 8;
inline constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;

}  // namespace sepconv::detail
