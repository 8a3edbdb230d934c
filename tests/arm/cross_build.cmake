# Configures (once) and builds the ARM64 cross build (tests/arm/CMakeLists.txt).
# cmake -DSOURCE_DIR= -DBINARY_DIR= -DTOOLCHAIN= -DGENERATORS_DIR= -DGENERATOR=
#       -DGENERATOR_CMAKE= -DMAKE_PROGRAM= -P cross_build.cmake
if (NOT EXISTS "${GENERATOR}")
    message(FATAL_ERROR "the host generator ${GENERATOR} is not built; build the host project first")
endif ()
# (Again when an earlier configure failed: it leaves a cache but no CTestTestfile.)
if (NOT EXISTS "${BINARY_DIR}/CTestTestfile.cmake")
    execute_process(COMMAND ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -G "${GENERATOR_CMAKE}"
                            "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}"
                            "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN}"
                            -DCMAKE_BUILD_TYPE=Release
                            "-Dsepconv-halide_generators_ROOT=${GENERATORS_DIR}"
                    COMMAND_ERROR_IS_FATAL ANY)
endif ()
# Re-configures by itself when a CMakeLists.txt changed; regenerates the
# kernels when the host generator changed.
execute_process(COMMAND ${CMAKE_COMMAND} --build "${BINARY_DIR}" COMMAND_ERROR_IS_FATAL ANY)
