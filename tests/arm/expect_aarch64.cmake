# cmake -DREADELF=<readelf> -DLIBRARIES=<a.a>|<b.a> -P expect_aarch64.cmake:
# fails unless every object in each static library is an AArch64 ELF object.
string(REPLACE "|" ";" LIBRARIES "${LIBRARIES}")
foreach (lib IN LISTS LIBRARIES)
    execute_process(COMMAND "${READELF}" -h "${lib}" OUTPUT_VARIABLE headers COMMAND_ERROR_IS_FATAL ANY)
    string(REGEX MATCHALL "Machine:[^\n]*" machines "${headers}")
    list(REMOVE_DUPLICATES machines)
    if (NOT machines STREQUAL "Machine:                           AArch64")
        message(FATAL_ERROR "${lib}: expected only AArch64 objects, found: ${machines}")
    endif ()
    message(STATUS "${lib}: ${machines}")
endforeach ()
