# The shell tests' kit, sourced by tests/test_*.sh: counters, ok/bad, expect.
# Each test ends with: echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE PATTERN -- command...: exit code and stderr matching PATTERN
expect() {
    code="$1"; pattern="$2"; shift 3
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -ne "$code" ]; then bad "$* -> exit $rc, want $code ($err)"; return; fi
    if ! printf '%s\n' "$err" | grep -q -- "$pattern"; then bad "$* -> '$err' lacks '$pattern'"; return; fi
    ok
}
