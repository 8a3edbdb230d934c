# The schedule database (schedules/db/, written by `sepconv tune`): tuned
# schedule knobs per (op, variant, target class). sepconv_kernel() asks
# sepconv_tuned_knobs() for the knob string of each variant; targets without
# an entry keep the hand schedule.
#
#   SEPCONV_SCHEDULE_DB               the database file ("" for none)
#   SEPCONV_SCHEDULE_DB_ACCEPT_STALE  use entries tuned on other schedule sources too
include_guard(GLOBAL)

set(SEPCONV_SCHEDULE_DB "${PROJECT_SOURCE_DIR}/schedules/db/schedules.json" CACHE FILEPATH
    "Schedule database the AOT kernels take their tuned knobs from (empty: hand schedules only)")
option(SEPCONV_SCHEDULE_DB_ACCEPT_STALE
       "Use database entries tuned on a different schedule fingerprint (by default they are ignored)" OFF)

# The target class of a Halide target string, as schedules/knobs.cpp's
# target_class() names it, and its kind: GPU (scheduled by
# schedules/gpu_schedules.cpp) or CPU.
function(sepconv_target_class OUT_CLASS OUT_KIND TARGET)
    set(t "-${TARGET}-")
    set(kind GPU)
    if (t MATCHES "-cuda")
        set(c cuda)
    elseif (t MATCHES "-opencl")
        set(c opencl)
    elseif (t MATCHES "-metal")
        set(c metal)
    elseif (t MATCHES "-vulkan")
        set(c vulkan)
    elseif (t MATCHES "-d3d12compute")
        set(c d3d12)
    elseif (t MATCHES "-webgpu")
        set(c webgpu)
    else ()
        set(kind CPU)
        if (t MATCHES "^-arm-64")
            set(c arm64)
        elseif (t MATCHES "^-arm-32")
            set(c arm32)
        elseif (t MATCHES "-avx512[-_]")
            set(c avx512)
        elseif (t MATCHES "-avx2-")
            set(c avx2)
        elseif (t MATCHES "-sse41-")
            set(c sse41)
        elseif (t MATCHES "^-x86-")
            set(c x86)
        else ()
            set(c other)
        endif ()
    endif ()
    set(${OUT_CLASS} ${c} PARENT_SCOPE)
    set(${OUT_KIND} ${kind} PARENT_SCOPE)
endfunction()

# sepconv_tuned_knobs(<out> <op> <layout> <kernel_h> <kernel_w> <multiplier>
#                     <stride> <weights_layout> <target>...): the "class.knob:value,..." string
# of the database entries "<op>/<variant>/<class>" for the targets' classes,
# where the variant is named as `sepconv tune` names it (pointwise: the layout;
# kernel_h 0: generic_<layout>; else <kh>x<kw>m<m>[s<stride>]_<layout>; with
# weights_layout packed, packed_<that>, and where the database has no packed
# entry for a class, the TF-filter entry's knobs).
# Entries tuned on other schedule sources than the current ones
# (SEPCONV_GPU_SCHEDULE_FINGERPRINT for a GPU class, else
# SEPCONV_CPU_SCHEDULE_FINGERPRINT) are stale: ignored with a warning. Empty
# when there is nothing to use.
function(sepconv_tuned_knobs OUT OP LAYOUT KERNEL_H KERNEL_W MULTIPLIER STRIDE WEIGHTS_LAYOUT)
    if (OP STREQUAL "pointwise")
        set(variant ${LAYOUT})
    elseif (KERNEL_H EQUAL 0)
        set(variant generic_${LAYOUT})
    else ()
        set(variant ${KERNEL_H}x${KERNEL_W}m${MULTIPLIER})
        if (STRIDE GREATER 0)
            string(APPEND variant s${STRIDE})
        endif ()
        string(APPEND variant _${LAYOUT})
    endif ()
    set(variants ${variant})
    if (WEIGHTS_LAYOUT STREQUAL "packed")
        set(variants packed_${variant} ${variant})
    elseif (NOT WEIGHTS_LAYOUT STREQUAL "tf")
        message(FATAL_ERROR "sepconv_tuned_knobs: weights_layout must be tf or packed, got '${WEIGHTS_LAYOUT}'")
    endif ()
    set(knobs "")
    if (SEPCONV_SCHEDULE_DB AND EXISTS "${SEPCONV_SCHEDULE_DB}")
        if (NOT CMAKE_SCRIPT_MODE_FILE)  # re-configure when the database changes
            set_property(DIRECTORY "${PROJECT_SOURCE_DIR}" APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${SEPCONV_SCHEDULE_DB}")
        endif ()
        file(READ "${SEPCONV_SCHEDULE_DB}" db)
        string(JSON format ERROR_VARIABLE err GET "${db}" format)
        if (NOT format STREQUAL "sepconv-schedule-db/1")
            message(FATAL_ERROR "${SEPCONV_SCHEDULE_DB}: not a sepconv schedule database (format '${format}' ${err})")
        endif ()
        set(seen "")
        foreach (target IN LISTS ARGN)
            sepconv_target_class(cls kind "${target}")
            if (cls IN_LIST seen)
                continue()
            endif ()
            list(APPEND seen ${cls})
            foreach (v IN LISTS variants)  # the first the database has
                set(key "${OP}/${v}/${cls}")
                string(JSON entry ERROR_VARIABLE missing GET "${db}" entries "${key}")
                if (NOT missing)
                    break()
                endif ()
            endforeach ()
            if (missing)
                continue()
            endif ()
            string(JSON tuned_on GET "${entry}" schedule_fingerprint)
            set(current "${SEPCONV_${kind}_SCHEDULE_FINGERPRINT}")
            if (NOT tuned_on STREQUAL current AND NOT SEPCONV_SCHEDULE_DB_ACCEPT_STALE)
                message(WARNING "${SEPCONV_SCHEDULE_DB}: '${key}' was tuned on schedule fingerprint ${tuned_on}, "
                        "the schedules are now ${current}: ignored (hand schedule). Re-tune with `sepconv tune` "
                        "(README: Autotuning) or set SEPCONV_SCHEDULE_DB_ACCEPT_STALE=ON.")
                continue()
            endif ()
            string(JSON count LENGTH "${entry}" knobs)
            if (count GREATER 0)
                math(EXPR last "${count} - 1")
                foreach (i RANGE ${last})
                    string(JSON name MEMBER "${entry}" knobs ${i})
                    string(JSON value GET "${entry}" knobs "${name}")
                    # name:value: GenGen takes no second '=' in an argument.
                    list(APPEND knobs "${cls}.${name}:${value}")
                endforeach ()
            endif ()
        endforeach ()
    endif ()
    list(JOIN knobs "," knobs)
    set(${OUT} "${knobs}" PARENT_SCOPE)
endfunction()
