# valgrind.cmake: the unit tests again under valgrind memcheck (CTest label
# "valgrind": ctest -L valgrind), in builds without sanitizers (valgrind
# cannot run ASan binaries; the asan preset checks the same code with
# ASan+UBSan).  An invalid read or write, a use of uninitialised memory or
# a definite or indirect leak fails the test.  test_gpg and test_openpgp
# are left out: their S2K rounds (65 million SHA-1 per message) take many
# minutes under valgrind; scenario 41_valgrind runs arca's encryption
# paths under valgrind instead.
set(ARCA_VALGRIND_SKIP test_gpg test_openpgp)
if(NOT ARCA_SANITIZE AND NOT ARCA_FUZZ)
  find_program(ARCA_VALGRIND valgrind)
  foreach(src ${ARCA_UNIT_TESTS})
    get_filename_component(name ${src} NAME_WE)
    if(name IN_LIST ARCA_VALGRIND_SKIP)
      continue()
    endif()
    if(ARCA_VALGRIND)
      add_test(NAME valgrind.${name} COMMAND ${ARCA_VALGRIND} -q
        --error-exitcode=1 --leak-check=full
        --errors-for-leak-kinds=definite,indirect
        --show-leak-kinds=definite,indirect $<TARGET_FILE:${name}>)
    else()
      # A loud skip (scripts/test.sh fails on skips): install valgrind.
      add_test(NAME valgrind.${name} COMMAND sh -c
        "echo 'valgrind is not installed' >&2; exit 77")
    endif()
    set_tests_properties(valgrind.${name} PROPERTIES LABELS valgrind
      ENVIRONMENT "ARCA_TEST_DATA=${CMAKE_CURRENT_SOURCE_DIR}/data"
      TIMEOUT 600 SKIP_RETURN_CODE 77)
  endforeach()
endif()
