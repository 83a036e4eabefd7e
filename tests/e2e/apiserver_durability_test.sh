#!/usr/bin/env bash
# kill -9 during a write storm loses no acknowledged write; after restart old watches get 410.
source "$(dirname "$0")/lib.sh"
DATA=$WORK/data
start_apiserver "$DATA"
WRITERS=8
for w in $(seq 1 $WRITERS); do
  (
    i=0
    while true; do
      i=$((i + 1))
      name="cm-$w-$i"
      code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
        -H 'Content-Type: application/json' \
        -d "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$name\"},\"data\":{\"i\":\"$i\"}}" \
        "$API_URL/api/v1/namespaces/default/configmaps" || true)
      # Only a 201 is an acknowledged write.
      if [[ $code == 201 ]]; then echo "$name" >>"$WORK/acked.$w"; fi
      if [[ $code == 000 ]]; then exit 0; fi
    done
  ) &
done
# Let the storm run until enough writes are acknowledged, then kill the server without warning.
for _ in $(seq 1 200); do
  n=$( (cat "$WORK"/acked.* 2>/dev/null || true) | wc -l)
  [[ $n -ge 200 ]] && break
  sleep 0.05
done
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
wait
acked=$(cat "$WORK"/acked.* | sort -u)
total=$(echo "$acked" | wc -l)
[[ $total -ge 50 ]] || fail "only $total writes were acknowledged before the kill"
start_apiserver "$DATA"
curl -s --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
  "$API_URL/api/v1/namespaces/default/configmaps" >"$WORK/list.json"
present=$(python3 -c 'import json,sys; print("\n".join(i["metadata"]["name"] for i in json.load(open(sys.argv[1]))["items"]))' "$WORK/list.json" | sort -u)
missing=$(comm -23 <(echo "$acked") <(echo "$present") | wc -l)
expect_eq "$missing" "0" "acknowledged writes missing after kill -9 (of $total)"
# A watch from before the restart must be told to relist (410 Expired in an ERROR event).
event=$(curl -s -m 5 --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
  "$API_URL/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1" | head -1)
echo "$event" | grep -q '"code":410' || fail "old watch got: $event"
echo "PASS apiserver_durability_test ($total acknowledged writes survived kill -9)"
