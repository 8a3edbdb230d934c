# `cmake --install`: a relocatable package for find_package(sepconv) with
#   sepconv::runtime         the AOT library (no libHalide)
#   sepconv::jit             the optional JIT (links libHalide)
#   sepconv::generators      the generator executable (build-time generation)
#   sepconv::halide_runtime  the Halide runtime the kernels share
#   sepconv::cli             the `sepconv` command-line program
# and the CMake functions sepconv_kernel() / sepconv_add_kernels().
# Every path in the installed files is relative to the prefix; Halide is
# found again by the user's build (FindHalideWheel.cmake, find_dependency).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(SEPCONV_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/sepconv")

target_include_directories(sepconv_runtime PUBLIC "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
set_target_properties(sepconv_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(sepconv_jit PROPERTIES EXPORT_NAME jit)
set_target_properties(sepconv_schedules PROPERTIES EXPORT_NAME schedules)
set_target_properties(sepconv_halide_runtime PROPERTIES EXPORT_NAME halide_runtime)
set_target_properties(sepconv_generators PROPERTIES EXPORT_NAME generators)
set_target_properties(sepconv PROPERTIES EXPORT_NAME cli)
# The executables that load libHalide find it where the build found it (the
# Halide wheel, outside the prefix) through their run path.
get_target_property(_sepconv_libhalide Halide::Halide LOCATION)
get_filename_component(_sepconv_libhalide_dir "${_sepconv_libhalide}" DIRECTORY)
set_target_properties(sepconv_generators sepconv PROPERTIES INSTALL_RPATH "${_sepconv_libhalide_dir}")

get_property(_sepconv_kernel_targets GLOBAL PROPERTY SEPCONV_AOT_KERNEL_TARGETS)
install(TARGETS sepconv_runtime sepconv_jit sepconv_schedules sepconv_halide_runtime ${_sepconv_kernel_targets}
        EXPORT sepconvTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        FILE_SET HEADERS DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/sepconv/kernels")
install(TARGETS sepconv_generators sepconv EXPORT sepconvTargets RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/runtime/include/sepconv" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT sepconvTargets NAMESPACE sepconv:: DESTINATION "${SEPCONV_INSTALL_CMAKEDIR}")

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/sepconvConfig.cmake.in"
                              "${PROJECT_BINARY_DIR}/sepconvConfig.cmake"
                              INSTALL_DESTINATION "${SEPCONV_INSTALL_CMAKEDIR}")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/sepconvConfigVersion.cmake" COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/sepconvConfig.cmake" "${PROJECT_BINARY_DIR}/sepconvConfigVersion.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/FindHalideWheel.cmake" "${CMAKE_CURRENT_LIST_DIR}/SepconvKernels.cmake"
              "${CMAKE_CURRENT_LIST_DIR}/SepconvAddKernels.cmake"
        DESTINATION "${SEPCONV_INSTALL_CMAKEDIR}")
