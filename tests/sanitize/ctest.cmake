# The sanitized trees as ctest fixtures (included by tests/CMakeLists.txt):
# each is configured and built by scripts/sanitize.sh over this build's
# generated kernels (nothing regenerated), then its suites run.
#   label sanitize: ASan + UBSan, every suite that needs no libHalide;
#   label tsan:     ThreadSanitizer, the concurrency and layer suites;
#   label fuzz:     libFuzzer (clang-14) over tests/fuzz/corpus, 60 s.
set(_sanitize_script "${PROJECT_SOURCE_DIR}/scripts/sanitize.sh")
set(_sanitize_env "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:strict_init_order=1" "SEPCONV_GRID_CASES=60")

# sepconv_sanitized_tree(<kind> <label> SUITES ...): the build fixture and one test per suite.
function(sepconv_sanitized_tree kind label)
    cmake_parse_arguments(PARSE_ARGV 2 ARG "" "" "SUITES;ENVIRONMENT")
    set(tree "${CMAKE_BINARY_DIR}/sanitize-${kind}")
    add_test(NAME ${kind}_build COMMAND bash "${_sanitize_script}" ${kind} "${CMAKE_BINARY_DIR}" "${tree}")
    # Builds of their own: not alongside each other (2-core CI).
    set_tests_properties(${kind}_build PROPERTIES FIXTURES_SETUP ${kind}_tree LABELS ${label} TIMEOUT 1800
                         RESOURCE_LOCK sanitized_build)
    foreach (suite IN LISTS ARG_SUITES)
        add_test(NAME ${kind}_${suite} COMMAND "${tree}/${suite}")
        set_tests_properties(${kind}_${suite} PROPERTIES FIXTURES_REQUIRED ${kind}_tree LABELS ${label}
                             ENVIRONMENT "${ARG_ENVIRONMENT}" TIMEOUT 900)
    endforeach ()
endfunction()

sepconv_sanitized_tree(asan sanitize
                       SUITES errors_test shape_test layers_test registry_test golden_test conformance_test
                              concurrency_test allocation_test thread_pool_test
                       ENVIRONMENT ${_sanitize_env} "SEPCONV_CONCURRENCY_ITERATIONS=10")
sepconv_sanitized_tree(tsan tsan
                       SUITES concurrency_test layers_test thread_pool_test
                       ENVIRONMENT "TSAN_OPTIONS=halt_on_error=1:suppressions=${CMAKE_CURRENT_LIST_DIR}/tsan.supp"
                                   "SEPCONV_CONCURRENCY_ITERATIONS=20")

# The fuzz run: the committed corpus, then 60 s of new inputs (kept in the
# build tree, not in the corpus). A crash leaves its input in the tree.
set(_fuzz_tree "${CMAKE_BINARY_DIR}/sanitize-fuzz")
add_test(NAME fuzz_build COMMAND bash "${_sanitize_script}" fuzz "${CMAKE_BINARY_DIR}" "${_fuzz_tree}")
set_tests_properties(fuzz_build PROPERTIES FIXTURES_SETUP fuzz_tree LABELS fuzz TIMEOUT 1800
                     RESOURCE_LOCK sanitized_build)
add_test(NAME fuzz_api
         COMMAND bash -c "mkdir -p new-inputs && exec ./fuzz/api_fuzzer -max_total_time=60 -timeout=10 -rss_limit_mb=2048 \
-artifact_prefix=./ -print_final_stats=1 new-inputs '${CMAKE_CURRENT_LIST_DIR}/../fuzz/corpus/api'"
         WORKING_DIRECTORY "${_fuzz_tree}")
set_tests_properties(fuzz_api PROPERTIES FIXTURES_REQUIRED fuzz_tree LABELS fuzz TIMEOUT 300)
