# SEPCONV_BUILD_PYTHON: build the Python extension (python/). Its default is ON
# when the Python that provides Halide (SEPCONV_PYTHON, the project venv) also
# has nanobind and its headers are found. Included from the top-level
# CMakeLists before the runtime: the extension needs position-independent code
# in everything it links.
if (NOT SEPCONV_PYTHON)
    find_program(SEPCONV_PYTHON NAMES python3 python HINTS "${CMAKE_CURRENT_LIST_DIR}/../.venv/bin")
endif ()
if (SEPCONV_PYTHON AND NOT SEPCONV_NANOBIND_DIR)
    execute_process(COMMAND "${SEPCONV_PYTHON}" -m nanobind --cmake_dir
                    OUTPUT_VARIABLE _sepconv_nanobind_dir
                    OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE _sepconv_nanobind_found
                    ERROR_QUIET)
    if (_sepconv_nanobind_found EQUAL 0 AND _sepconv_nanobind_dir)
        set(SEPCONV_NANOBIND_DIR "${_sepconv_nanobind_dir}" CACHE PATH "nanobind's CMake directory")
    endif ()
endif ()
if (SEPCONV_PYTHON AND NOT Python_EXECUTABLE)
    set(Python_EXECUTABLE "${SEPCONV_PYTHON}")
endif ()
set(_sepconv_python_default OFF)
if (SEPCONV_NANOBIND_DIR)
    find_package(Python 3.9 COMPONENTS Interpreter Development.Module)
    if (Python_Development.Module_FOUND)
        set(_sepconv_python_default ON)
    endif ()
endif ()
option(SEPCONV_BUILD_PYTHON "Build the Python extension module (needs nanobind and Python's headers)"
       ${_sepconv_python_default})
if (SEPCONV_BUILD_PYTHON)
    message(STATUS "Python bindings: on (nanobind from ${SEPCONV_NANOBIND_DIR})")
    set(CMAKE_POSITION_INDEPENDENT_CODE ON)
else ()
    message(STATUS "Python bindings: off (needs nanobind for ${SEPCONV_PYTHON} and Python's headers, "
                   "e.g. scripts/bootstrap.sh and python3-dev)")
endif ()
