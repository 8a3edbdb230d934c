# sepconv_kernel(<name> OP depthwise|pointwise|separable
#                [PARAMS name=value ...] [TARGETS target ...] [TABLE <property>] [SCHEDULE_DB <json>])
#
# Generates one kernel variant at build time with Halide's add_halide_library:
# a static library <name> with the C function <name>() and header <name>.h.
# Several TARGETS make one multi-target library that picks the best one for
# the running CPU (Halide's runtime feature dispatch); the default is the
# Halide_TARGET of the build (the host). TARGETS of another architecture (e.g.
# arm-64-linux) make a cross-compiled static library with its own runtime.
# All variants link one shared Halide runtime, sepconv_halide_runtime.
#
# TABLE <property>: the global property that records the variant for a kernel
# table (default SEPCONV_AOT_KERNEL_RECORDS, the runtime's built-in table;
# sepconv_add_kernels keeps a user's kernels in their own).
#
# The same functions serve the installed package (sepconvConfig.cmake), where
# the generator and the Halide runtime are imported targets: it sets
# SEPCONV_GENERATOR and SEPCONV_HALIDE_RUNTIME before including this file.
include_guard(GLOBAL)
include(SepconvScheduleDb)  # tuned knobs (schedules/db/)

# The generator and shared runtime targets, defaulted in the calling function's
# scope (the file is included once, but called from any directory).
# sepconv_variant_params(<name=value>...): sets layout, kernel_h, kernel_w,
# multiplier, stride, weights_layout and channels in the caller's scope from a variant's
# generator PARAMS, the generators' defaults where a PARAMS entry does not set
# them (0: given at run time; weights_layout tf or packed). Shared with gpu/CMakeLists.txt's GPU variants.
macro(sepconv_variant_params)
    set(layout nhwc)
    set(kernel_h 0)
    set(kernel_w 0)
    set(multiplier 0)
    set(stride 0)
    set(weights_layout tf)
    set(channels 0)
    foreach (_sepconv_param IN ITEMS ${ARGN})
        if (_sepconv_param MATCHES "^(layout|kernel_h|kernel_w|multiplier|stride|weights_layout|channels)=(.+)$")
            set(${CMAKE_MATCH_1} ${CMAKE_MATCH_2})
        endif ()
    endforeach ()
endmacro()

macro(_sepconv_default_targets)
    if (NOT SEPCONV_GENERATOR)
        set(SEPCONV_GENERATOR sepconv_generators)
    endif ()
    if (NOT SEPCONV_HALIDE_RUNTIME)
        set(SEPCONV_HALIDE_RUNTIME sepconv_halide_runtime)
    endif ()
endmacro()

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
    _sepconv_default_targets()
    if (NOT TARGET ${SEPCONV_HALIDE_RUNTIME})
        add_halide_runtime(${SEPCONV_HALIDE_RUNTIME} TARGETS ${SEPCONV_KERNEL_TARGETS})
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
    cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OP;TABLE;SCHEDULE_DB" "PARAMS;TARGETS")
    _sepconv_default_targets()
    if (ARG_SCHEDULE_DB)
        # This kernel's knobs come from that database (SepconvScheduleDb.cmake's
        # sepconv_tuned_knobs reads SEPCONV_SCHEDULE_DB; here, function-local).
        if (NOT COMMAND sepconv_tuned_knobs)
            message(FATAL_ERROR "sepconv_kernel(${NAME}): SCHEDULE_DB needs the schedule database support (SepconvScheduleDb.cmake)")
        endif ()
        set(SEPCONV_SCHEDULE_DB "${ARG_SCHEDULE_DB}")
    endif ()
    if (NOT ARG_TABLE)
        set(ARG_TABLE SEPCONV_AOT_KERNEL_RECORDS)
    endif ()
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
    sepconv_variant_params(${ARG_PARAMS})
    # Tuned knobs from the schedule database, unless PARAMS set knobs.
    if (NOT ARG_PARAMS MATCHES "(^|;)knobs=")
        sepconv_tuned_knobs(tuned ${ARG_OP} ${layout} ${kernel_h} ${kernel_w} ${multiplier} ${stride} ${weights_layout}
                            ${ARG_TARGETS})
        if (tuned)
            list(APPEND ARG_PARAMS "knobs=${tuned}")
        endif ()
    endif ()
    set_property(GLOBAL APPEND PROPERTY ${ARG_TABLE}
                 "${NAME}|${ARG_OP}|${layout}|${kernel_h}|${kernel_w}|${multiplier}|${stride}|${weights_layout}|${channels}")
    if (ARG_TABLE STREQUAL "SEPCONV_AOT_KERNEL_RECORDS")
        set_property(GLOBAL APPEND PROPERTY SEPCONV_AOT_KERNEL_TARGETS ${NAME})
    endif ()
    _sepconv_add_kernel_library(${NAME} ${ARG_OP} ${SEPCONV_HALIDE_RUNTIME} "${ARG_TARGETS}" "${ARG_PARAMS}")
endfunction()

function(_sepconv_add_kernel_library NAME OP RUNTIME TARGETS PARAMS)
    add_halide_library(${NAME}
                       FROM ${SEPCONV_GENERATOR}
                       GENERATOR ${OP}
                       FUNCTION_NAME ${NAME}
                       TARGETS ${TARGETS}
                       USE_RUNTIME ${RUNTIME}
                       PARAMS ${PARAMS})
endfunction()

# _sepconv_kernel_entries(<property> <includes var> <entries var> <count var>):
# the #include lines and the C++ KernelEntry initializers (sepconv/kernel_table.h)
# of the variants recorded in a global property.
function(_sepconv_kernel_entries PROPERTY OUT_INCLUDES OUT_ENTRIES OUT_COUNT)
    set(includes "")
    set(entries "")
    set(count 0)
    get_property(records GLOBAL PROPERTY ${PROPERTY})
    foreach (record IN LISTS records)
        string(REPLACE "|" ";" f "${record}")
        list(GET f 0 name)
        list(GET f 1 op)
        list(GET f 2 layout)
        list(GET f 3 kh)
        list(GET f 4 kw)
        list(GET f 5 m)
        list(GET f 6 stride)
        list(GET f 7 weights_layout)
        list(GET f 8 channels)
        string(TOUPPER "${layout}" layout_uc)
        if (weights_layout STREQUAL "packed")
            set(packed true)
        else ()
            set(packed false)
        endif ()
        if (op STREQUAL "depthwise")
            set(op_enum Depthwise)
        elseif (op STREQUAL "pointwise")
            set(op_enum Pointwise)
        else ()
            set(op_enum Separable)
        endif ()
        string(APPEND includes "#include \"${name}.h\"\n")
        string(APPEND entries "    {{\"${name}\", sepconv::Op::${op_enum}, sepconv::DataFormat::${layout_uc}, ${kh}, ${kw}, ${m}, ${stride}, ${packed}, ${channels}}, ")
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
    set(${OUT_INCLUDES} "${includes}" PARENT_SCOPE)
    set(${OUT_ENTRIES} "${entries}" PARENT_SCOPE)
    set(${OUT_COUNT} "${count}" PARENT_SCOPE)
endfunction()

# sepconv_kernel_table(<out.cpp>): writes the C++ table of every variant
# declared so far with sepconv_kernel(), for the runtime's registry.
function(sepconv_kernel_table OUT)
    _sepconv_kernel_entries(SEPCONV_AOT_KERNEL_RECORDS includes entries count)
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
