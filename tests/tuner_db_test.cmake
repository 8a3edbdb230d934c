# cmake -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=... -P tuner_db_test.cmake
# The build's side of the schedule database: sepconv_tuned_knobs() turns the
# entries of a database into the knob string sepconv_kernel() passes to the
# generator (per target class, stale entries ignored), and the generator
# compiles with that string (and refuses a misspelt knob in it).
cmake_minimum_required(VERSION 3.28)
file(MAKE_DIRECTORY "${WORK_DIR}")
set(PROJECT_SOURCE_DIR "${SOURCE_DIR}")
set(SEPCONV_SCHEDULE_DB "${WORK_DIR}/db.json")
set(SEPCONV_CPU_SCHEDULE_FINGERPRINT "fresh0123456789a")
set(SEPCONV_GPU_SCHEDULE_FINGERPRINT "gpufresh01234567")
list(APPEND CMAKE_MODULE_PATH "${SOURCE_DIR}/cmake")
include(SepconvScheduleDb)

file(WRITE "${SEPCONV_SCHEDULE_DB}" [=[{
  "format": "sepconv-schedule-db/1",
  "entries": {
    "separable/3x3m1s1_nhwc/avx2": {"op": "separable", "variant": "3x3m1s1_nhwc", "target_class": "avx2",
      "schedule_fingerprint": "fresh0123456789a", "knobs": {"pw_columns": 4, "pw_vectors": 2}},
    "separable/3x3m1s1_nhwc/sse41": {"op": "separable", "variant": "3x3m1s1_nhwc", "target_class": "sse41",
      "schedule_fingerprint": "fresh0123456789a", "knobs": {}},
    "depthwise/3x3m1s2_nhwc/avx2": {"op": "depthwise", "variant": "3x3m1s2_nhwc", "target_class": "avx2",
      "schedule_fingerprint": "stale0123456789a", "knobs": {"dw_columns": 4}},
    "pointwise/nhwc/avx512": {"op": "pointwise", "variant": "nhwc", "target_class": "avx512",
      "schedule_fingerprint": "fresh0123456789a", "knobs": {"pw_columns": 8}},
    "pointwise/packed_nhwc/avx512": {"op": "pointwise", "variant": "packed_nhwc", "target_class": "avx512",
      "schedule_fingerprint": "fresh0123456789a", "knobs": {"pw_columns": 6}},
    "pointwise/nchw/cuda": {"op": "pointwise", "variant": "nchw", "target_class": "cuda",
      "schedule_fingerprint": "gpufresh01234567", "knobs": {"gpu_pw_block_warps": 4}},
    "separable/3x3m1s1_nhwc/cuda": {"op": "separable", "variant": "3x3m1s1_nhwc", "target_class": "cuda",
      "schedule_fingerprint": "fresh0123456789a", "knobs": {"gpu_pw_unroll_channels": 4}}
  }
}]=])

# Each target's class (as schedules/knobs.cpp's target_class() names it) and kind.
foreach (case IN ITEMS "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41=avx512/CPU"
                       "x86-64-linux-avx-avx2-f16c-fma-sse41=avx2/CPU" "x86-64-linux-sse41=sse41/CPU"
                       "x86-64-linux=x86/CPU" "arm-64-linux-arm_dot_prod=arm64/CPU" "arm-32-linux=arm32/CPU"
                       "wasm-32-wasmrt=other/CPU" "x86-64-linux-cuda-cuda_capability_86=cuda/GPU"
                       "arm-64-linux-opencl=opencl/GPU" "arm-64-osx-metal=metal/GPU" "x86-64-linux-vulkan=vulkan/GPU"
                       "x86-64-windows-d3d12compute=d3d12/GPU" "wasm-32-wasmrt-webgpu=webgpu/GPU")
    string(REPLACE "=" ";" case "${case}")
    list(GET case 0 target)
    list(GET case 1 want)
    sepconv_target_class(cls kind "${target}")
    if (NOT "${cls}/${kind}" STREQUAL want)
        message(FATAL_ERROR "sepconv_target_class(${target}): got ${cls}/${kind}, want ${want}")
    endif ()
endforeach ()

set(targets x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41 x86-64-linux-avx-avx2-f16c-fma-sse41
    x86-64-linux-sse41 x86-64-linux)
function(expect_knobs WANT)
    sepconv_tuned_knobs(got ${ARGN} ${targets})
    if (NOT got STREQUAL WANT)
        message(FATAL_ERROR "sepconv_tuned_knobs(${ARGN}): got '${got}', want '${WANT}'")
    endif ()
endfunction()
expect_knobs("avx2.pw_columns:4,avx2.pw_vectors:2" separable nhwc 3 3 1 1 tf)
expect_knobs("" separable nhwc 3 3 1 2 tf)              # no entry: hand schedule
expect_knobs("" depthwise nhwc 3 3 1 2 tf)              # stale entry: ignored (a warning)
expect_knobs("avx512.pw_columns:8" pointwise nhwc 0 0 0 0 tf)
expect_knobs("avx512.pw_columns:6" pointwise nhwc 0 0 0 0 packed)  # the packed kernel's own entry
expect_knobs("avx2.pw_columns:4,avx2.pw_vectors:2" separable nhwc 3 3 1 1 packed)  # none: the TF filter's
# GPU classes are checked against the GPU schedules' fingerprint, not the CPU one.
sepconv_tuned_knobs(got pointwise nchw 0 0 0 0 tf x86-64-linux-cuda-cuda_capability_86)
if (NOT got STREQUAL "cuda.gpu_pw_block_warps:4")
    message(FATAL_ERROR "GPU entry on the GPU fingerprint: got '${got}'")
endif ()
sepconv_tuned_knobs(got separable nhwc 3 3 1 1 tf x86-64-linux-cuda-cuda_capability_86)
if (NOT got STREQUAL "")
    message(FATAL_ERROR "GPU entry on the CPU fingerprint is stale: got '${got}'")
endif ()
set(SEPCONV_SCHEDULE_DB_ACCEPT_STALE ON)
expect_knobs("avx2.dw_columns:4" depthwise nhwc 3 3 1 2 tf)
set(SEPCONV_SCHEDULE_DB_ACCEPT_STALE OFF)

# The generator takes the string for a multi-target build, each sub-target its own.
# Two sub-targets keep it short: the knobs are qualified for one of them.
set(targets x86-64-linux-avx-avx2-f16c-fma-sse41-no_runtime x86-64-linux-no_runtime)
sepconv_tuned_knobs(knobs separable nhwc 3 3 1 1 tf ${targets})
list(JOIN targets "," target_list)
function(generate KNOBS EXPECT_OK)
    execute_process(COMMAND "${GENERATOR}" -g separable -f tuned -n tuned -d 0 -e c_header,object -o "${WORK_DIR}"
                            "target=${target_list}" layout=nhwc kernel_h=3 kernel_w=3 multiplier=1 stride=1
                            "knobs=${KNOBS}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if (EXPECT_OK AND NOT rc EQUAL 0)
        message(FATAL_ERROR "generator refused knobs=${KNOBS}: ${out}")
    elseif (NOT EXPECT_OK AND rc EQUAL 0)
        message(FATAL_ERROR "generator accepted knobs=${KNOBS}")
    endif ()
endfunction()
generate("${knobs}" TRUE)
generate("avx2.pw_colums:4" FALSE)
