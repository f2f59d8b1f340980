#!/bin/bash
# The crash points used by the fault-injection tests exist only in the test
# twin (vigil-crashtest): the vigil that ships has neither the code nor the
# environment variable names, and setting them changes nothing.
. "$(dirname "$0")/q_lib.sh"

[ -n "$CRASHTEST" ] || skip "no vigil-crashtest given"
for name in VIGIL_TEST_CRASH_AT VIGIL_TEST_STOP_AT VIGIL_TEST_CRASH_TRACE vq_crash_point; do
	check "vigil does not contain '$name'" eval '! grep -a -q -F "$name" "$VIGIL"'
	check "vigil-crashtest contains '$name' (the check above can see it)" \
		grep -a -q -F "$name" "$CRASHTEST"
done

make_db
mkdir -p "$T/t"
make_eicar "$T/t/a.com"
VIGIL_TEST_CRASH_AT=store.intent VIGIL_TEST_STOP_AT=action.begin \
	"$VIGIL" scan --config-file="$T/empty.conf" -d "$T/db" --move --quarantine-dir="$T/store" \
	"$T/t/a.com" > "$T/out" 2> "$T/err"
RC=$?
check "vigil with the crash variables set: runs to the end (exit 1)" rc_is 1
check "vigil with the crash variables set: the file was quarantined" \
	eval '[ ! -e "$T/t/a.com" ] && [ "$(store_ids "$T/store" | wc -l)" = 1 ]'
finish
