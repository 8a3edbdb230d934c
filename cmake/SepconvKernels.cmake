# sepconv_kernel(<name> OP depthwise|pointwise|separable
#                [PARAMS name=value ...] [TARGETS target ...])
#
# Generates one kernel variant at build time with Halide's add_halide_library:
# a static library <name> with the C function <name>() and header <name>.h.
# Several TARGETS make one multi-target library that picks the best one for
# the running CPU (Halide's runtime feature dispatch); the default is the
# Halide_TARGET of the build (the host). TARGETS of another architecture (e.g.
# arm-64-linux) make a cross-compiled static library with its own runtime.
# All variants link one shared Halide runtime, sepconv_halide_runtime.
include_guard(GLOBAL)

# x86-64 hosts get multi-target libraries: AVX-512, AVX2, SSE4.1, and a
# baseline last; Halide's runtime picks the first the CPU supports, per call.
if (Halide_TARGET MATCHES "^host" AND Halide_HOST_TARGET MATCHES "^x86-64-linux")
    set(_sepconv_default_targets
        x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
        x86-64-linux-avx-avx2-f16c-fma-sse41
        x86-64-linux-sse41
        x86-64-linux)
else ()
    set(_sepconv_default_targets "${Halide_TARGET}")
endif ()
set(SEPCONV_KERNEL_TARGETS "${_sepconv_default_targets}" CACHE STRING
    "Halide targets the AOT kernels are generated for (several make multi-target libraries, best first)")

function(sepconv_halide_runtime)
    if (NOT TARGET sepconv_halide_runtime)
        add_halide_runtime(sepconv_halide_runtime TARGETS ${SEPCONV_KERNEL_TARGETS})
    endif ()
endfunction()

# The Halide "arch-bits-os" of a target ("cmake" and "host" as Halide reads them).
function(_sepconv_triple OUT SPEC)
    if (SPEC MATCHES "^host")
        set(SPEC "${Halide_HOST_TARGET}")
    elseif (SPEC MATCHES "^cmake")
        set(SPEC "${Halide_CMAKE_TARGET}")
    endif ()
    string(REGEX MATCH "^[a-z0-9_]+-[0-9]+-[a-z0-9_]+" triple "${SPEC}")
    set(${OUT} "${triple}" PARENT_SCOPE)
endfunction()

function(sepconv_kernel NAME)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OP" "PARAMS;TARGETS")
    if (NOT ARG_OP MATCHES "^(depthwise|pointwise|separable)$")
        message(FATAL_ERROR "sepconv_kernel(${NAME}): OP must be depthwise, pointwise or separable, got '${ARG_OP}'")
    endif ()
    if (NOT ARG_TARGETS)
        set(ARG_TARGETS ${SEPCONV_KERNEL_TARGETS})
    endif ()
    # Targets of another architecture than the build's kernels (e.g. TARGETS
    # arm-64-linux in an x86-64 build, to embed ARM objects in an app) get
    # their own runtime, sepconv_halide_runtime_<arch-bits-os>, and stay out of
    # this build's kernel registry.
    list(GET ARG_TARGETS 0 first_target)
    list(GET SEPCONV_KERNEL_TARGETS 0 build_target)
    _sepconv_triple(triple "${first_target}")
    _sepconv_triple(build_triple "${build_target}")
    if (NOT triple STREQUAL build_triple)
        string(REPLACE "-" "_" runtime "sepconv_halide_runtime_${triple}")
        if (NOT TARGET ${runtime})
            add_halide_runtime(${runtime} TARGETS ${ARG_TARGETS})
        endif ()
        _sepconv_add_kernel_library(${NAME} ${ARG_OP} ${runtime} "${ARG_TARGETS}" "${ARG_PARAMS}")
        return()
    endif ()
    sepconv_halide_runtime()
    # Record the variant for the runtime's kernel table.
    set(layout nhwc)
    set(kernel_h 0)
    set(kernel_w 0)
    set(multiplier 0)
    set(stride 0)
    foreach (param IN LISTS ARG_PARAMS)
        if (param MATCHES "^(layout|kernel_h|kernel_w|multiplier|stride)=(.+)$")
            set(${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
        endif ()
    endforeach ()
    set_property(GLOBAL APPEND PROPERTY SEPCONV_AOT_KERNEL_RECORDS
                 "${NAME}|${ARG_OP}|${layout}|${kernel_h}|${kernel_w}|${multiplier}|${stride}")
    set_property(GLOBAL APPEND PROPERTY SEPCONV_AOT_KERNEL_TARGETS ${NAME})
    _sepconv_add_kernel_library(${NAME} ${ARG_OP} sepconv_halide_runtime "${ARG_TARGETS}" "${ARG_PARAMS}")
endfunction()

function(_sepconv_add_kernel_library NAME OP RUNTIME TARGETS PARAMS)
    add_halide_library(${NAME}
                       FROM sepconv_generators
                       GENERATOR ${OP}
                       FUNCTION_NAME ${NAME}
                       TARGETS ${TARGETS}
                       USE_RUNTIME ${RUNTIME}
                       PARAMS ${PARAMS})
endfunction()

# sepconv_kernel_table(<out.cpp>): writes the C++ table of every variant
# declared so far with sepconv_kernel(), for the runtime's registry.
function(sepconv_kernel_table OUT)
    set(includes "")
    set(entries "")
    set(count 0)
    get_property(records GLOBAL PROPERTY SEPCONV_AOT_KERNEL_RECORDS)
    foreach (record IN LISTS records)
        string(REPLACE "|" ";" f "${record}")
        list(GET f 0 name)
        list(GET f 1 op)
        list(GET f 2 layout)
        list(GET f 3 kh)
        list(GET f 4 kw)
        list(GET f 5 m)
        list(GET f 6 stride)
        string(TOUPPER "${layout}" layout_uc)
        if (op STREQUAL "depthwise")
            set(op_enum Depthwise)
        elseif (op STREQUAL "pointwise")
            set(op_enum Pointwise)
        else ()
            set(op_enum Separable)
        endif ()
        string(APPEND includes "#include \"${name}.h\"\n")
        string(APPEND entries "    {{\"${name}\", Op::${op_enum}, DataFormat::${layout_uc}, ${kh}, ${kw}, ${m}, ${stride}}, ")
        foreach (o IN ITEMS depthwise pointwise separable)
            if (o STREQUAL op)
                string(APPEND entries "${name}, ")
            else ()
                string(APPEND entries "nullptr, ")
            endif ()
        endforeach ()
        string(APPEND entries "},\n")
        math(EXPR count "${count} + 1")
    endforeach ()
    file(CONFIGURE OUTPUT "${OUT}" CONTENT [=[// Generated by CMake (sepconv_kernel_table): the AOT kernel variants.
@includes@
#include "kernel_abi.h"

namespace sepconv::detail {

const KernelEntry kAotKernels[] = {
@entries@};
const int kAotKernelCount = @count@;

}  // namespace sepconv::detail
]=] @ONLY)
endfunction()
