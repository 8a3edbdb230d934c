# Fails if BINARY (linked with sepconv::runtime only) depends on libHalide.
execute_process(COMMAND ldd "${BINARY}" OUTPUT_VARIABLE deps RESULT_VARIABLE rc)
if (NOT rc EQUAL 0)
    message(FATAL_ERROR "ldd ${BINARY} failed")
endif ()
if (deps MATCHES "libHalide")
    message(FATAL_ERROR "${BINARY} links libHalide:\n${deps}")
endif ()
message(STATUS "${BINARY} does not link libHalide")
