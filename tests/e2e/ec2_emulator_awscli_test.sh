#!/usr/bin/env bash
# The real aws CLI (Debian awscli, v2) and boto3 (python3-boto3) against `gpufleet ec2-emulator`:
# the seed's capacity-reservation command verbatim plus --endpoint-url, instance types, launches
# (run-instances and create-fleet), describe, terminate, AWS-shaped errors, a wrong secret refused
# with AuthFailure, and state kept across a restart.
set -euo pipefail
GPUFLEET=${GPUFLEET:?set GPUFLEET to the gpufleet binary}
AWS=/usr/bin/aws   # Debian's awscli; a pyenv or pip aws may come first on PATH
PY=/usr/bin/python3
[[ -x $AWS ]] || { echo "SKIP: /usr/bin/aws is not installed (scripts/install-deps.sh installs awscli)"; exit 77; }
"$PY" -c "import boto3" 2>/dev/null || { echo "SKIP: python3-boto3 is not installed"; exit 77; }

WORK=$(mktemp -d)
PID=""
cleanup() {
  [[ -n $PID ]] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $WORK/emu.err ]] && tail -20 "$WORK/emu.err" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"; }

start() {
  "$GPUFLEET" ec2-emulator --data-dir "$WORK/ec2" --listen 127.0.0.1:0 --region us-west-2 --boot-delay 4s \
    >"$WORK/emu.out" 2>"$WORK/emu.err" &
  PID=$!
  for _ in $(seq 1 100); do
    grep -q "ready at" "$WORK/emu.out" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || fail "emulator exited"
    sleep 0.1
  done
  ENDPOINT=$(sed -n 's/.*ready at \([^ ]*\).*/\1/p' "$WORK/emu.out")
  [[ -n $ENDPOINT ]] || fail "emulator not ready"
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }
# wait_state STATE ID...: polls describe-instances (the CLI's waiters poll every 15 s).
wait_state() {
  local want=$1; shift
  for _ in $(seq 1 60); do
    local states
    states=$("${A[@]}" ec2 describe-instances --instance-ids "$@" --query 'Reservations[].Instances[].State.Name' --output text)
    [[ $(tr '\t' '\n' <<<"$states" | sort -u) == "$want" ]] && return 0
    sleep 0.5
  done
  return 1
}

start
[[ -f $WORK/ec2/credentials ]] || fail "no credentials file written"
expect_eq "$(stat -c %a "$WORK/ec2/credentials")" "600" "credentials file mode"
export AWS_SHARED_CREDENTIALS_FILE=$WORK/ec2/credentials AWS_CONFIG_FILE=$WORK/no-config
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_REGION
AWS_REGION=us-west-2
A=("$AWS" --endpoint-url "$ENDPOINT")

# The seed's command, verbatim plus --endpoint-url.
ODCR_ID=$("$AWS" ec2 describe-capacity-reservations --region $AWS_REGION --filters "Name=state,Values=active" --query "CapacityReservations[0].CapacityReservationId" --output text --endpoint-url "$ENDPOINT")
[[ $ODCR_ID == cr-* ]] || fail "describe-capacity-reservations printed '$ODCR_ID'"
expect_eq "$("${A[@]}" --region us-west-2 ec2 describe-capacity-reservations --capacity-reservation-ids "$ODCR_ID" \
  --query 'CapacityReservations[0].[InstanceType,AvailableInstanceCount,InstanceMatchCriteria]' --output text)" \
  "g6e.2xlarge	2	targeted" "the seeded ODCR"

export AWS_REGION
# Instance types, filtered and paginated by the CLI.
expect_eq "$("${A[@]}" ec2 describe-instance-types --instance-types g6e.2xlarge \
  --query 'InstanceTypes[0].[VCpuInfo.DefaultVCpus,MemoryInfo.SizeInMiB,GpuInfo.Gpus[0].Name,GpuInfo.Gpus[0].Count]' --output text)" \
  "8	65536	L40S	1" "g6e.2xlarge shape"
COUNT=$("${A[@]}" ec2 describe-instance-types --query 'length(InstanceTypes)' --output json)
(( COUNT > 1300 )) || fail "describe-instance-types paginated to $COUNT types"
expect_eq "$("${A[@]}" ec2 describe-instance-type-offerings --location-type availability-zone \
  --filters Name=instance-type,Values=p5.48xlarge --query 'length(InstanceTypeOfferings)' --output text)" "4" "p5 offerings"

# run-instances -> describe-instances -> terminate-instances.
AMI=$("${A[@]}" ssm get-parameter --name /aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/nvidia/recommended/image_id \
  --query Parameter.Value --output text)
[[ $AMI == ami-* ]] || fail "ssm get-parameter printed '$AMI'"
ID=$("${A[@]}" ec2 run-instances --image-id "$AMI" --instance-type g6e.2xlarge --count 1 \
  --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=e2e}]' --query 'Instances[0].InstanceId' --output text)
[[ $ID == i-* ]] || fail "run-instances printed '$ID'"
# pending until the boot delay passes (a loaded machine may already see running; the exact
# transition is tested with a fake clock in tests/cloud/ec2emu).
STATE=$("${A[@]}" ec2 describe-instances --instance-ids "$ID" --query 'Reservations[0].Instances[0].State.Name' --output text)
[[ $STATE == pending || $STATE == running ]] || fail "state right after launch: $STATE"
wait_state running "$ID" || fail "instance never ran"
expect_eq "$("${A[@]}" ec2 describe-instances --filters Name=tag:Name,Values=e2e \
  --query 'Reservations[].Instances[].[InstanceId,InstanceType]' --output text)" "$ID	g6e.2xlarge" "describe by tag"

# create-fleet (instant) into the ODCR through a launch template, idempotent on its token.
"${A[@]}" ec2 create-launch-template --launch-template-name e2e-odcr --launch-template-data \
  "{\"ImageId\":\"$AMI\",\"CapacityReservationSpecification\":{\"CapacityReservationPreference\":\"capacity-reservations-only\",\"CapacityReservationTarget\":{\"CapacityReservationId\":\"$ODCR_ID\"}}}" >/dev/null
SUBNET=$("${A[@]}" ec2 describe-subnets --filters Name=availability-zone,Values=us-west-2a Name=tag:karpenter.sh/discovery,Values=gpufleet \
  --query 'Subnets[0].SubnetId' --output text)
fleet() {
  "${A[@]}" ec2 create-fleet --type instant --client-token e2e-fleet-1 \
    --target-capacity-specification TotalTargetCapacity=1,DefaultTargetCapacityType=on-demand \
    --launch-template-configs "LaunchTemplateSpecification={LaunchTemplateName=e2e-odcr,Version=\$Latest},Overrides=[{InstanceType=g6e.2xlarge,SubnetId=$SUBNET}]" \
    --query 'Instances[0].InstanceIds[0]' --output text
}
FLEET_ID=$(fleet)
[[ $FLEET_ID == i-* ]] || fail "create-fleet printed '$FLEET_ID'"
expect_eq "$(fleet)" "$FLEET_ID" "create-fleet retried with the same client token"
expect_eq "$("${A[@]}" ec2 describe-instances --instance-ids "$FLEET_ID" --query 'Reservations[0].Instances[0].CapacityReservationId' --output text)" \
  "$ODCR_ID" "fleet instance in the reservation"
expect_eq "$("${A[@]}" ec2 describe-capacity-reservations --capacity-reservation-ids "$ODCR_ID" \
  --query 'CapacityReservations[0].AvailableInstanceCount' --output text)" "1" "reservation count after launch"

expect_eq "$("${A[@]}" ec2 terminate-instances --instance-ids "$ID" "$FLEET_ID" --query 'TerminatingInstances[].CurrentState.Name' --output text)" \
  "shutting-down	shutting-down" "terminate-instances"
wait_state terminated "$ID" "$FLEET_ID" || fail "instances never terminated"
expect_eq "$("${A[@]}" ec2 describe-capacity-reservations --capacity-reservation-ids "$ODCR_ID" \
  --query 'CapacityReservations[0].AvailableInstanceCount' --output text)" "2" "reservation count after termination"

# AWS-shaped errors.
err() { "${A[@]}" "$@" 2>&1 >/dev/null || true; }
[[ $(err ec2 run-instances --image-id "$AMI" --instance-type nope.large --count 1) == *InvalidParameterValue* ]] || fail "bad instance type"
[[ $(err ec2 describe-instances --instance-ids i-0123456789abcdef0) == *InvalidInstanceID.NotFound* ]] || fail "unknown instance"
[[ $(err ec2 run-instances --image-id ami-00000000000000000 --instance-type g6e.2xlarge --count 1) == *InvalidAMIID.NotFound* ]] || fail "unknown AMI"
[[ $(err ec2 describe-instances --filters Name=no-such,Values=x) == *InvalidParameterValue* ]] || fail "unknown filter"
[[ $(err ec2 run-instances --image-id "$AMI" --instance-type g6e.2xlarge --count 1 --dry-run) == *DryRunOperation* ]] || fail "dry run"
# A wrong secret: AuthFailure, and the secret is nowhere in the emulator's log.
OUT=$(AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE1 AWS_SECRET_ACCESS_KEY=wrong-secret-value-for-e2e "${A[@]}" ec2 describe-instances 2>&1 || true)
[[ $OUT == *AuthFailure* ]] || fail "wrong secret: $OUT"
grep -q "wrong-secret-value-for-e2e" "$WORK/emu.err" && fail "a secret reached the log"
grep -q "$(sed -n 's/^aws_secret_access_key = //p' "$WORK/ec2/credentials")" "$WORK/emu.err" && fail "the emulator's secret reached the log"

# boto3 as a second client.
"$PY" - "$ENDPOINT" <<'PY' || fail "boto3 check"
import sys, boto3, botocore
endpoint = sys.argv[1]
ec2 = boto3.client("ec2", region_name="us-west-2", endpoint_url=endpoint)
ssm = boto3.client("ssm", region_name="us-west-2", endpoint_url=endpoint)
crs = ec2.describe_capacity_reservations(Filters=[{"Name": "state", "Values": ["active"]}])["CapacityReservations"]
assert crs and crs[0]["InstanceType"] == "g6e.2xlarge", crs
pages = list(ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 100}))
assert sum(len(p["InstanceTypes"]) for p in pages) > 1300 and len(pages) > 10
ami = ssm.get_parameter(Name="/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/image_id")["Parameter"]["Value"]
r = ec2.run_instances(ImageId=ami, InstanceType="m7i.large", MinCount=2, MaxCount=2, ClientToken="boto3-1")
ids = sorted(i["InstanceId"] for i in r["Instances"])
again = ec2.run_instances(ImageId=ami, InstanceType="m7i.large", MinCount=2, MaxCount=2, ClientToken="boto3-1")
assert sorted(i["InstanceId"] for i in again["Instances"]) == ids, "idempotent RunInstances"
ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1})
ec2.create_tags(Resources=ids, Tags=[{"Key": "team", "Value": "llm"}])
found = ec2.describe_instances(Filters=[{"Name": "tag:team", "Values": ["llm"]}])
assert sorted(i["InstanceId"] for res in found["Reservations"] for i in res["Instances"]) == ids
try:
    ec2.run_instances(ImageId=ami, InstanceType="m7i.large", MinCount=1, MaxCount=1, ClientToken="boto3-1")
    raise AssertionError("token reuse with other parameters must fail")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "IdempotentParameterMismatch", e.response
out = ec2.terminate_instances(InstanceIds=ids)
assert [s["CurrentState"]["Name"] for s in out["TerminatingInstances"]] == ["shutting-down"] * 2
print("boto3 ok")
PY

# gpufleet's own view through the same endpoint: credentials source, and the seed's ODCR as a
# reserved offering of g6e.2xlarge.
WHO=$("$GPUFLEET" aws whoami --aws-endpoint "$ENDPOINT") || fail "gpufleet aws whoami: $WHO"
[[ $WHO == *"shared-credentials-file:default"* && $WHO == *"us-west-2a us-west-2b us-west-2c us-west-2d"* ]] || fail "whoami: $WHO"
cat >"$WORK/gpu.yaml" <<YAML
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: gpufleet
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: gpufleet
  capacityReservationSelectorTerms:
    - id: $ODCR_ID
YAML
TYPES=$(AWS_ENDPOINT_URL=$ENDPOINT "$GPUFLEET" aws instance-types --gpu --nodeclass "$WORK/gpu.yaml") || fail "instance-types: $TYPES"
[[ $(grep '^g6e.2xlarge ' <<<"$TYPES") == *"us-west-2a reserved 0.0000"* ]] || fail "g6e.2xlarge's cheapest offering is not the ODCR: $(grep '^g6e.2xlarge ' <<<"$TYPES")"
RESOLVED=$(AWS_ENDPOINT_URL=$ENDPOINT "$GPUFLEET" aws resolve --nodeclass "$WORK/gpu.yaml") || fail "resolve: $RESOLVED"
[[ $RESOLVED == *"id: $ODCR_ID"* && $RESOLVED == *"amazon-eks-node-al2023-x86_64-nvidia-1.32"* ]] || fail "resolve: $RESOLVED"
BAD=$("$GPUFLEET" aws whoami --aws-endpoint "$ENDPOINT" --region eu-west-1 2>&1 || true)
[[ $BAD == *AuthFailure* ]] || fail "a region the endpoint does not serve: $BAD"

# State survives a restart.
stop
start
expect_eq "$("${A[@]}" --endpoint-url "$ENDPOINT" ec2 describe-capacity-reservations --query 'length(CapacityReservations)' --output text)" "1" \
  "reservations after restart (not seeded twice)"
expect_eq "$("$AWS" --endpoint-url "$ENDPOINT" ec2 describe-instances --filters Name=tag:team,Values=llm --query 'length(Reservations[].Instances[])' --output text)" \
  "2" "instances after restart"
echo "PASS"
