"""boto3 baseline for bench/run cloud: the same catalog reads and single launches the provider
makes, done with boto3 against the same emulator. Prints one JSON object.
usage: boto3_baseline.py ENDPOINT CREDENTIALS_FILE LAUNCHES"""
import json, os, statistics, sys, time

endpoint, credentials, launches = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials
os.environ["AWS_CONFIG_FILE"] = "/dev/null"
import boto3  # noqa: E402 (after the environment is set)

session = boto3.session.Session(region_name="us-west-2")
ec2 = session.client("ec2", endpoint_url=endpoint)
ssm = session.client("ssm", endpoint_url=endpoint)

def catalog():
    n = 0
    for page in ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 100}):
        n += len(page["InstanceTypes"])
    for page in ec2.get_paginator("describe_instance_type_offerings").paginate(LocationType="availability-zone", PaginationConfig={"PageSize": 1000}):
        pass
    for page in ec2.get_paginator("describe_spot_price_history").paginate(ProductDescriptions=["Linux/UNIX", "Linux/UNIX (Amazon VPC)"], PaginationConfig={"PageSize": 1000}):
        pass
    return n

cold = []
for _ in range(3):
    t0 = time.perf_counter()
    catalog()
    cold.append((time.perf_counter() - t0) * 1000)

ami = ssm.get_parameter(Name="/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/nvidia/recommended/image_id")["Parameter"]["Value"]
lt = ec2.create_launch_template(LaunchTemplateName="boto3-bench", LaunchTemplateData={"ImageId": ami})
subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
launch = []
for i in range(launches):
    t0 = time.perf_counter()
    r = ec2.create_fleet(Type="instant", ClientToken="boto3-bench-%d" % i,
                         TargetCapacitySpecification={"TotalTargetCapacity": 1, "DefaultTargetCapacityType": "on-demand"},
                         LaunchTemplateConfigs=[{"LaunchTemplateSpecification": {"LaunchTemplateName": "boto3-bench", "Version": "$Latest"},
                                                 "Overrides": [{"InstanceType": t, "SubnetId": s} for t in ("g6e.2xlarge", "g6e.4xlarge", "g5.2xlarge") for s in subnets]}])
    ec2.describe_instances(InstanceIds=r["Instances"][0]["InstanceIds"])
    launch.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"catalog_cold_ms": statistics.median(cold), "fleet_plus_describe_ms_p50": statistics.median(launch)}))
