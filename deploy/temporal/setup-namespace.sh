#!/bin/sh
# The namespace, then shixian's search attributes in it (they belong to a namespace, so only
# after it exists), with the `temporal` CLI from the admin-tools image. Retries while the
# server starts; safe to re-run (existing namespace and attributes are kept).
set -eu
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
ADDRESS=${TEMPORAL_ADDRESS:-temporal:7233}
SEARCH_ATTRIBUTES="ShixianJurisdiction=Keyword ShixianStage=Keyword ShixianOwner=Keyword ShixianNextDue=Datetime ShixianOverdue=Bool ShixianEscalationLevel=Int ShixianProvisionalYears=KeywordList"

retry() {
  n=0
  until "$@"; do
    n=$((n + 1))
    if [ "$n" -ge 30 ]; then echo "gave up after $n attempts: $*" >&2; return 1; fi
    sleep 2
  done
}

retry temporal operator cluster health --address "$ADDRESS"
temporal operator namespace describe --address "$ADDRESS" -n "$NAMESPACE" >/dev/null 2>&1 ||
  retry temporal operator namespace create --address "$ADDRESS" -n "$NAMESPACE" --retention 30d

for sa in $SEARCH_ATTRIBUTES; do
  name=${sa%%=*}
  type=${sa#*=}
  if temporal operator search-attribute list --address "$ADDRESS" -n "$NAMESPACE" |
      grep -q "$name"; then
    echo "search attribute $name exists"
  else
    retry temporal operator search-attribute create --address "$ADDRESS" -n "$NAMESPACE" \
      --name "$name" --type "$type"
  fi
done
echo "namespace $NAMESPACE with shixian's search attributes is ready"
