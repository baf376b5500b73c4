#!/usr/bin/env bash
# check_output.sh EXPECTED PROGRAM [ARGS...]: runs PROGRAM and checks its output.
#
# The program must exit with status 0, and every non-empty line of EXPECTED that does not
# start with '#' is an extended regular expression (bash =~) that must match a line of the
# program's output (stdout and stderr together), in the order given: each regex is searched
# for after the line the previous one matched. Keys hold random hashes, so expected lines
# use patterns such as 'key: slow-[0-9a-f]+'. The output is printed in full either way.
set -u

if [[ $# -lt 2 ]]; then
  echo "usage: $0 EXPECTED PROGRAM [ARGS...]" >&2
  exit 2
fi
expected_file=$1
shift

output=$("$@" 2>&1)
rc=$?
printf '%s\n' "$output"
echo "----- check_output: exit status $rc, checking against $expected_file"

mapfile -t lines <<<"$output"
status=0
if [[ $rc -ne 0 ]]; then
  echo "FAIL: exit status $rc (expected 0)"
  status=1
fi

pos=0
while IFS= read -r re || [[ -n $re ]]; do
  [[ -z $re || $re == \#* ]] && continue
  found=-1
  for ((i = pos; i < ${#lines[@]}; i++)); do
    if [[ ${lines[i]} =~ $re ]]; then
      found=$i
      break
    fi
  done
  if [[ $found -lt 0 ]]; then
    echo "FAIL: no output line (from line $((pos + 1)) on) matches: $re"
    status=1
  else
    pos=$((found + 1))
  fi
done <"$expected_file"

[[ $status -eq 0 ]] && echo "PASS: every expected line matched"
exit $status
