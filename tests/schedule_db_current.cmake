# cmake -DSOURCE_DIR=... -DDB=... -DCPU_FINGERPRINT=... -DGPU_FINGERPRINT=... -P schedule_db_current.cmake
# The schedule database the build reads was tuned on the schedules it builds:
# an entry tuned on other schedule sources is ignored by the build (a
# warning), and its kernels silently take the hand schedule. (d1fb57f changed
# the CPU schedules and left every entry stale: main's AVX-512 depthwise ran
# the hand schedule, 1.6-1.9x the tuned one's time.) A schedule change
# re-tunes, or at least re-times, the classes it touches (README: Autotuning).
cmake_minimum_required(VERSION 3.28)
set(PROJECT_SOURCE_DIR "${SOURCE_DIR}")
list(APPEND CMAKE_MODULE_PATH "${SOURCE_DIR}/cmake")
include(SepconvScheduleDb)  # sepconv_target_class

if (NOT EXISTS "${DB}")
    message(STATUS "no schedule database (${DB}): nothing to check")
    return()
endif ()
file(READ "${DB}" db)
string(JSON count LENGTH "${db}" entries)
set(stale "")
if (count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach (i RANGE ${last})
        string(JSON key MEMBER "${db}" entries ${i})
        string(JSON target GET "${db}" entries "${key}" target)
        string(JSON tuned_on GET "${db}" entries "${key}" schedule_fingerprint)
        sepconv_target_class(cls kind "${target}")
        if (NOT tuned_on STREQUAL "${${kind}_FINGERPRINT}")
            string(APPEND stale "\n  ${key}: tuned on ${tuned_on}, the ${kind} schedules are now ${${kind}_FINGERPRINT}")
        endif ()
    endforeach ()
endif ()
if (stale)
    message(FATAL_ERROR "${DB}: entries tuned on other schedules than these, which the build ignores:${stale}\n"
            "Re-tune them with `sepconv tune` (README: Autotuning).")
endif ()
message(STATUS "${count} entries, all tuned on the current schedules")
