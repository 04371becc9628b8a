#!/usr/bin/env bash
# The action's last step: fails the job when the gate failed or could not run. It is separate from the verify
# step so that the pull-request comment is posted before the job fails.
set -euo pipefail
case "${PG_RESULT:-}" in
  pass)
    echo "ProvenanceGate: PASS"
    ;;
  fail)
    echo "ProvenanceGate: FAIL (see the annotations and the job summary)"
    exit "${PG_EXIT_CODE:-1}"
    ;;
  *)
    echo "ProvenanceGate: ERROR: verify could not check the BOM (exit code ${PG_EXIT_CODE:-unknown})"
    exit 2
    ;;
esac
