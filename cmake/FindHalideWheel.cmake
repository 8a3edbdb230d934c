# Points CMake at the Halide C++ SDK shipped in the `halide` pip wheel, by
# asking Python for halide.install_dir(). A Halide_DIR or CMAKE_PREFIX_PATH
# given by the user wins. The project venv (.venv, made by
# scripts/bootstrap.sh) is preferred over other Pythons.
if (Halide_DIR)
    return()
endif ()

set(_sepconv_python_hints "${CMAKE_CURRENT_LIST_DIR}/../.venv/bin/python")
if (DEFINED ENV{VIRTUAL_ENV})
    list(PREPEND _sepconv_python_hints "$ENV{VIRTUAL_ENV}/bin/python")
endif ()
find_program(SEPCONV_PYTHON NAMES python3 python HINTS ${_sepconv_python_hints} NO_DEFAULT_PATH)
if (NOT SEPCONV_PYTHON)
    find_program(SEPCONV_PYTHON NAMES python3 python)
endif ()

execute_process(
    COMMAND "${SEPCONV_PYTHON}" -c "import halide; print(halide.install_dir())"
    OUTPUT_VARIABLE _sepconv_halide_root
    OUTPUT_STRIP_TRAILING_WHITESPACE
    RESULT_VARIABLE _sepconv_halide_found
    ERROR_QUIET)
if (_sepconv_halide_found EQUAL 0 AND _sepconv_halide_root)
    message(STATUS "Halide from the pip wheel: ${_sepconv_halide_root}")
    # Also <root>/lib64/cmake itself: find_package skips lib64 prefixes on
    # Debian (FIND_LIBRARY_USE_LIB64_PATHS), where the wheel keeps its configs.
    list(APPEND CMAKE_PREFIX_PATH "${_sepconv_halide_root}" "${_sepconv_halide_root}/lib64/cmake")
else ()
    message(STATUS "No halide wheel found by ${SEPCONV_PYTHON}; run scripts/bootstrap.sh or set Halide_DIR")
endif ()
