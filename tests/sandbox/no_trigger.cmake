# The installed vigil-worker must not contain the test-only trigger; the
# twin built for the tests must (so this check can fail).
file(STRINGS ${BIN} hits REGEX "VIGIL-SANDBOX-TRIGGER")
if(hits)
  message(FATAL_ERROR "${BIN} contains the test-only sandbox trigger: build without VIGIL_SANDBOX_TRIGGER")
endif()
file(STRINGS ${TWIN} twin_hits REGEX "VIGIL-SANDBOX-TRIGGER")
if(NOT twin_hits)
  message(FATAL_ERROR "${TWIN} lacks the trigger: this check could not tell")
endif()
message(STATUS "ok: ${BIN} has no sandbox trigger")
