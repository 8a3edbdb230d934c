# sepconv_add_kernels(<target>
#                     OPS depthwise|pointwise|separable ...
#                     [SHAPES <layers.csv> [CHANNELS]] [LAYOUT nhwc|nchw]
#                     [WEIGHTS tf|packed ...] [TARGETS <halide target> ...]
#                     [SCHEDULE_DB <json>])
#
# Generates, at build time, kernels specialized for the layers of SHAPES (the
# format of bench/shapes.csv: suite,layer,in_h,in_w,in_c,k_h,k_w,stride,
# dilation,multiplier,out_c,padding; '#' starts a comment) and links them
# into <target>:
#   - depthwise and separable: one kernel per distinct (k_h, k_w, multiplier,
#     stride) of the file, named <prefix>_f32_<dwconv|sepconv>_<k_h>x<k_w>m<M>s<S>_<layout>
#     (without SHAPES: one generic kernel, <prefix>_f32_<op>_generic_<layout>);
#   - depthwise and separable with CHANNELS (NHWC): also one kernel per
#     distinct (k_h, k_w, multiplier, stride, in_c),
#     <prefix>_f32_<dwconv|sepconv>_<k_h>x<k_w>m<M>s<S>c<in_c>_nhwc, generated
#     for that channel count: it runs the calls whose input has in_c channels
#     and whose input and output columns are dense (column stride = channel
#     count), the others run the class's kernel;
#   - pointwise: <prefix>_f32_pwconv_<layout>;
#   - pointwise and separable, for each of WEIGHTS (default both): on TF's
#     pointwise filter (tf) and on a sepconv::PackedPointwiseFilter (packed:
#     named ..._pwconv_packed_<layout>, ..._sepconv_packed_<k_h>x...; the
#     layer objects pack the filter of a layer whose output channels are
#     whole blocks of 16, and sepconv::separable_conv2d takes either);
# <prefix> is <target> as a C identifier. Each kernel is a Halide
# add_halide_library (through sepconv_kernel()) with its own header
# <kernel>.h declaring the raw Halide function; the header <prefix>_kernels.h
# includes them all and declares the table the sepconv runtime dispatches to:
#
#   namespace <prefix>_kernels {
#   inline const sepconv::KernelEntry table[];  // one per kernel
#   inline constexpr int count;
#   inline void register_kernels();  // sepconv::register_kernels(table, count)
#   }
#
# TARGETS are Halide targets (default SEPCONV_KERNEL_TARGETS: the host's
# ISA levels as a multi-target library). SCHEDULE_DB is a schedule database
# (JSON) the kernels' schedules are read from.
include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/SepconvKernels.cmake)

function(sepconv_add_kernels TARGET)
    cmake_parse_arguments(PARSE_ARGV 1 ARG "CHANNELS" "SHAPES;LAYOUT;SCHEDULE_DB" "OPS;TARGETS;WEIGHTS")
    if (ARG_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
    endif ()
    if (NOT TARGET ${TARGET})
        message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): ${TARGET} is not a target")
    endif ()
    if (NOT ARG_OPS)
        message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): OPS is required (depthwise, pointwise, separable)")
    endif ()
    if (NOT ARG_LAYOUT)
        set(ARG_LAYOUT nhwc)
    endif ()
    if (NOT ARG_LAYOUT MATCHES "^(nhwc|nchw)$")
        message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): LAYOUT must be nhwc or nchw, got '${ARG_LAYOUT}'")
    endif ()
    if (ARG_CHANNELS AND NOT (ARG_SHAPES AND ARG_LAYOUT STREQUAL "nhwc"))
        message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): CHANNELS needs SHAPES and LAYOUT nhwc "
                "(got SHAPES '${ARG_SHAPES}', LAYOUT ${ARG_LAYOUT})")
    endif ()
    if (NOT ARG_WEIGHTS)
        set(ARG_WEIGHTS tf packed)
    endif ()
    foreach (weights IN LISTS ARG_WEIGHTS)
        if (NOT weights MATCHES "^(tf|packed)$")
            message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): WEIGHTS must be tf or packed, got '${weights}'")
        endif ()
    endforeach ()
    set(passed "")
    if (ARG_TARGETS)
        list(APPEND passed TARGETS ${ARG_TARGETS})
    endif ()
    if (ARG_SCHEDULE_DB)
        get_filename_component(db "${ARG_SCHEDULE_DB}" ABSOLUTE)
        list(APPEND passed SCHEDULE_DB "${db}")
    endif ()

    # The distinct shape classes of the file, as "k_h|k_w|multiplier|stride",
    # and its layers' as "k_h|k_w|multiplier|stride|in_c".
    set(classes "")
    set(layer_classes "")
    if (ARG_SHAPES)
        get_filename_component(shapes "${ARG_SHAPES}" ABSOLUTE)
        set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${shapes}")
        file(STRINGS "${shapes}" lines)
        foreach (line IN LISTS lines)
            string(REGEX REPLACE "#.*" "" line "${line}")
            string(STRIP "${line}" line)
            if (line STREQUAL "" OR line MATCHES "^suite,")
                continue()
            endif ()
            string(REPLACE "," ";" f "${line}")
            list(LENGTH f n)
            if (NOT n EQUAL 12)
                message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): ${shapes}: expected 12 fields "
                        "(suite,layer,in_h,in_w,in_c,k_h,k_w,stride,dilation,multiplier,out_c,padding), got '${line}'")
            endif ()
            list(GET f 5 kh)
            list(GET f 6 kw)
            list(GET f 7 stride)
            list(GET f 9 m)
            list(GET f 4 in_c)
            list(APPEND classes "${kh}|${kw}|${m}|${stride}")
            list(APPEND layer_classes "${kh}|${kw}|${m}|${stride}|${in_c}")
        endforeach ()
        list(REMOVE_DUPLICATES classes)
        list(REMOVE_DUPLICATES layer_classes)
        if (NOT classes)
            message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): ${shapes} lists no layers")
        endif ()
    endif ()

    string(MAKE_C_IDENTIFIER "${TARGET}" prefix)
    set(table SEPCONV_KERNELS_${prefix})
    set_property(GLOBAL PROPERTY ${table} "")
    set(libraries "")
    foreach (op IN LISTS ARG_OPS)
        if (op STREQUAL "depthwise")
            set(short dwconv)
        elseif (op STREQUAL "separable")
            set(short sepconv)
        elseif (op STREQUAL "pointwise")
            set(short pwconv)
        else ()
            message(FATAL_ERROR "sepconv_add_kernels(${TARGET}): OPS must be depthwise, pointwise or separable, got '${op}'")
        endif ()
        # The 1x1 and the separable: a kernel per pointwise weights layout.
        set(weights_layouts tf)
        if (NOT op STREQUAL "depthwise")
            set(weights_layouts ${ARG_WEIGHTS})
        endif ()
        foreach (weights IN LISTS weights_layouts)
            set(stem ${prefix}_f32_${short})
            set(weights_param "")
            if (NOT op STREQUAL "depthwise")
                set(weights_param weights_layout=${weights})
            endif ()
            if (weights STREQUAL "packed")
                string(APPEND stem _packed)
            endif ()
            if (op STREQUAL "pointwise")
                sepconv_kernel(${stem}_${ARG_LAYOUT} OP ${op} TABLE ${table}
                               PARAMS layout=${ARG_LAYOUT} ${weights_param} ${passed})
                list(APPEND libraries ${stem}_${ARG_LAYOUT})
                continue()
            endif ()
            if (NOT classes)
                sepconv_kernel(${stem}_generic_${ARG_LAYOUT} OP ${op} TABLE ${table}
                               PARAMS layout=${ARG_LAYOUT} ${weights_param} ${passed})
                list(APPEND libraries ${stem}_generic_${ARG_LAYOUT})
            endif ()
            # The classes' kernels, and with CHANNELS the per-layer ones (a
            # fifth field: the channel count they are generated for).
            set(kernel_classes ${classes})
            if (ARG_CHANNELS)
                list(APPEND kernel_classes ${layer_classes})
            endif ()
            foreach (class IN LISTS kernel_classes)
                string(REPLACE "|" ";" c "${class}")
                list(GET c 0 kh)
                list(GET c 1 kw)
                list(GET c 2 m)
                list(GET c 3 stride)
                set(channels_suffix "")
                set(channels_param "")
                list(LENGTH c fields)
                if (fields EQUAL 5)
                    list(GET c 4 in_c)
                    set(channels_suffix c${in_c})
                    set(channels_param channels=${in_c})
                endif ()
                set(name ${stem}_${kh}x${kw}m${m}s${stride}${channels_suffix}_${ARG_LAYOUT})
                sepconv_kernel(${name} OP ${op} TABLE ${table} ${passed}
                               PARAMS layout=${ARG_LAYOUT} kernel_h=${kh} kernel_w=${kw} multiplier=${m}
                                      stride=${stride} ${weights_param} ${channels_param})
                list(APPEND libraries ${name})
            endforeach ()
        endforeach ()
    endforeach ()

    # The header naming the kernels, with their table for the runtime.
    _sepconv_kernel_entries(${table} includes entries count)
    set(header_dir "${CMAKE_CURRENT_BINARY_DIR}/${prefix}_sepconv")
    file(CONFIGURE OUTPUT "${header_dir}/${prefix}_kernels.h" CONTENT [=[// Generated by sepconv_add_kernels(@TARGET@): the kernels generated for it.
// Each is also callable directly as the Halide function its own header declares.
#pragma once

@includes@
#include "sepconv/kernel_table.h"

namespace @prefix@_kernels {

// Every kernel, as the sepconv runtime's registry describes it.
inline const sepconv::KernelEntry table[] = {
@entries@};
inline constexpr int count = @count@;

// Adds them to the runtime's registry: sepconv::depthwise_conv2d & co. then
// run them for the calls they match (before the built-in variants).
inline void register_kernels() {
    sepconv::register_kernels(table, count);
}

}  // namespace @prefix@_kernels
]=] @ONLY)
    target_include_directories(${TARGET} PRIVATE "${header_dir}")
    target_link_libraries(${TARGET} PRIVATE ${libraries} sepconv::runtime)
endfunction()
