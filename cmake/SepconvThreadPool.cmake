# sepconv_link_thread_pool(<target>): the pool the kernels' parallel loops run
# on (runtime/src/thread_pool.cpp): pthreadpool, Debian's libpthreadpool-dev.
# A build without it (the ARM cross build: Debian has no arm64 package that
# installs beside the host's) keeps the loops on Halide's own pool.
include_guard(GLOBAL)

function(sepconv_link_thread_pool TARGET)
    find_path(SEPCONV_PTHREADPOOL_INCLUDE_DIR pthreadpool.h)
    find_library(SEPCONV_PTHREADPOOL_LIBRARY pthreadpool)
    if (SEPCONV_PTHREADPOOL_INCLUDE_DIR AND SEPCONV_PTHREADPOOL_LIBRARY)
        target_compile_definitions(${TARGET} PRIVATE SEPCONV_HAVE_PTHREADPOOL)
        target_include_directories(${TARGET} PRIVATE "${SEPCONV_PTHREADPOOL_INCLUDE_DIR}")
        # By name: the installed package's users link the system's library too.
        target_link_libraries(${TARGET} PRIVATE pthreadpool)
    else ()
        message(STATUS "sepconv: no pthreadpool (libpthreadpool-dev): parallel loops run on Halide's thread pool")
    endif ()
endfunction()

# sepconv_thread_pool_test_definitions(<target>): SEPCONV_HAVE_PTHREADPOOL on
# a test of the pool (tests/thread_pool_test.cpp) where
# sepconv_link_thread_pool found it for the runtime.
function(sepconv_thread_pool_test_definitions TARGET)
    if (SEPCONV_PTHREADPOOL_LIBRARY)
        target_compile_definitions(${TARGET} PRIVATE SEPCONV_HAVE_PTHREADPOOL)
    endif ()
endfunction()
