#!/usr/bin/env python3
"""`gpufleet up` end to end, driven the way a user drives it (kubectl, the env file).

latency: one GPU pod (the seed's pod shape, running `sleep`) on a fresh cluster at time scale 1
  with the default simulated delays; the time from the pod's creation to Running, split into
  batching, decision, launch, boot, registration, device plugin, binding and container start,
  from watch events (kubectl --raw watches, timed on arrival) and the controller's log lines.
scale: N pods that each need a node of their own, at a high time scale: --nodes CPU nodes
  (m5.large, a kubelet and its device manager each) and --gpu-nodes GPU nodes (g6e.2xlarge, each
  also running the real agent with its device plugin gRPC server); for each, the
  process's RSS and the CPU each part used (threads are named gf-apiserver, gf-controller,
  gf-sim*, gf-ec2emu), while provisioning and over a quiet minute after.
Prints one JSON object on the last line.
"""
import argparse, json, os, re, signal, subprocess, sys, tempfile, threading, time

def log(*a):
    print(*a, file=sys.stderr, flush=True)

class Up:
    def __init__(self, gpufleet, time_scale, data):
        self.data = data
        self.err = open(os.path.join(data + ".err"), "w")
        self.out = os.path.join(data + ".out")
        self.proc = subprocess.Popen([gpufleet, "up", "--data-dir", data, "--time-scale", str(time_scale),
                                      "--api-listen", "127.0.0.1:0", "--ec2-listen", "127.0.0.1:0"],
                                     stdout=open(self.out, "w"), stderr=self.err)
        deadline = time.time() + 60
        while "gpufleet is up" not in open(self.out).read():
            if self.proc.poll() is not None or time.time() > deadline:
                raise SystemExit("gpufleet up did not start: " + open(data + ".err").read()[-2000:])
            time.sleep(0.05)
        self.env = dict(os.environ)
        for line in open(os.path.join(data, "env")):
            m = re.match(r"export (\w+)=(.*)", line.strip())
            if m:
                self.env[m.group(1)] = m.group(2)

    def kubectl(self, *args, input=None):
        return subprocess.run(["kubectl", *args], env=self.env, input=input, capture_output=True, text=True, check=True).stdout

    def watch(self, path, on_event):
        p = subprocess.Popen(["kubectl", "get", "--raw", path + "?watch=1"], env=self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        def run():
            for line in p.stdout:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                on_event(time.time(), ev)
        threading.Thread(target=run, daemon=True).start()
        return p

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)

def log_time(line):
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z", line)
    if not m:
        return None
    import datetime
    return datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()

def gpu_pod(name, selector_pool=None, gpu=True):
    spec = {"tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "nodeSelector": {"nvidia.com/gpu.present": "true"},
            "containers": [{"name": "main", "image": "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal",
                            "command": ["sleep", "100000"], "resources": {"limits": {"nvidia.com/gpu": 1}}}]}
    if not gpu:  # one per m5.large: requests a whole CPU
        spec = {"containers": [{"name": "main", "image": "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal",
                                "command": ["sleep", "100000"], "resources": {"requests": {"cpu": "1"}}}],
                "nodeSelector": {}}
    if selector_pool:
        spec["nodeSelector"]["karpenter.sh/nodepool"] = selector_pool
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"}, "spec": spec}

def latency_run(gpufleet, work, i):
    up = Up(gpufleet, 1, os.path.join(work, f"latency-{i}"))
    t = {}
    def on_pod(now, ev):
        o = ev["object"]
        if o["metadata"]["name"] != "bench":
            return
        t.setdefault("created", now)
        if o["spec"].get("nodeName"):
            t.setdefault("bound", now)
        if o.get("status", {}).get("phase") == "Running":
            t.setdefault("running", now)
    def on_claim(now, ev):
        o = ev["object"]
        t.setdefault("claim", now)
        if o.get("status", {}).get("providerID"):
            t.setdefault("launched", now)
    def on_node(now, ev):
        o = ev["object"]
        if "nvidia.com/gpu.present" not in o["metadata"].get("labels", {}):
            return
        t.setdefault("node", now)
        st = o.get("status", {})
        if any(c["type"] == "Ready" and c["status"] == "True" for c in st.get("conditions", [])):
            t.setdefault("node_ready", now)
        if st.get("allocatable", {}).get("nvidia.com/gpu", "0") not in ("0", ""):
            t.setdefault("gpu", now)
    watches = [up.watch("/api/v1/namespaces/default/pods", on_pod),
               up.watch("/apis/karpenter.sh/v1/nodeclaims", on_claim),
               up.watch("/api/v1/nodes", on_node)]
    time.sleep(1)
    up.kubectl("apply", "-f", "-", input=json.dumps(gpu_pod("bench")))
    deadline = time.time() + 180
    while "running" not in t and time.time() < deadline:
        time.sleep(0.05)
    for w in watches:
        w.kill()
    up.stop()
    if "running" not in t:
        raise SystemExit(f"run {i}: the pod never ran: {t}")
    err = open(up.data + ".err").read().splitlines()
    decision = next(float(m.group(1)) / 1000 for l in err if (m := re.search(r"computed new nodeclaim.*nodeclaims=1 .*decision_ms=([\d.]+)", l)))
    booted = next(log_time(l) for l in err if "instance running" in l)
    c = t["created"]
    phases = {
        "batching_s": t["claim"] - c - decision,
        "decision_s": decision,
        "launch_s": t["launched"] - t["claim"],
        "boot_s": booted - t["launched"],
        "registration_s": t["node_ready"] - booted,
        "device_plugin_s": t["gpu"] - t["node_ready"],
        "binding_s": t["bound"] - t["gpu"],
        "container_start_s": t["running"] - t["bound"],
        "total_s": t["running"] - c,
    }
    log(f"latency run {i}: " + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()))
    return phases

def cpu_by_part(pid):
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        part = ("apiserver" if comm.startswith("gf-apiserver") else "controller" if comm.startswith("gf-controller")
                else "ec2emu" if comm.startswith("gf-ec2emu") else "simulator" if comm.startswith("gf-sim")
                else "grpc" if comm.startswith("grpc") else "other")
        out[part] = out.get(part, 0) + ticks / hz
    return out

def proc_status(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0

def scale_run(gpufleet, work, nodes, time_scale, gpu):
    up = Up(gpufleet, time_scale, os.path.join(work, "scale-gpu" if gpu else "scale-cpu"))
    pid = up.proc.pid
    template = {"metadata": {"labels": {"nvidia.com/gpu.present": "true"}}, "spec": {
        "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
        "requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g6e.2xlarge"]},
                         {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}],
        "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]}}
    if not gpu:
        template = {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "gpu"},
            "requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large"]},
                             {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]}]}}
    up.kubectl("apply", "-f", "-", input=json.dumps({
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "scale"},
        "spec": {"template": template}}))
    before = cpu_by_part(pid)
    began = time.time()
    items = [gpu_pod(f"p{i}", "scale", gpu) for i in range(nodes)]
    up.kubectl("apply", "-f", "-", input="".join("---\n" + json.dumps(item) + "\n" for item in items))
    deadline = time.time() + 1800
    running = 0
    while time.time() < deadline:
        try:
            out = up.kubectl("get", "pods", "--field-selector=status.phase=Running", "-o", "name", "--request-timeout=60s")
            running = len(out.split())
        except subprocess.CalledProcessError as e:
            log(f"scale: kubectl get pods failed: {e.stderr.strip()[:200]}")
        if running >= nodes:
            break
        log(f"scale: {running}/{nodes} running after {time.time() - began:.0f} s, rss {proc_status(pid, 'VmRSS') >> 20} MiB")
        time.sleep(10)
    ramp_s = time.time() - began
    ramp = cpu_by_part(pid)
    nodes_now = len(up.kubectl("get", "nodes", "-o", "name").split())
    time.sleep(60)
    quiet = cpu_by_part(pid)
    threads = len(os.listdir(f"/proc/{pid}/task"))
    result = {
        "kind": "gpu (g6e.2xlarge, agent + device plugin each)" if gpu else "cpu (m5.large)",
        "nodes": nodes_now, "pods_running": running, "time_scale": time_scale, "ramp_s": round(ramp_s, 1),
        "rss_bytes": proc_status(pid, "VmRSS"), "peak_rss_bytes": proc_status(pid, "VmHWM"), "threads": threads,
        "ramp_cpu_s": {k: round(ramp.get(k, 0) - before.get(k, 0), 2) for k in ramp},
        "steady_cpu_percent": {k: round(100 * (quiet.get(k, 0) - ramp.get(k, 0)) / 60, 2) for k in quiet},
    }
    up.stop()
    return result

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpufleet", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nodes", type=int, default=1000, help="simulated CPU nodes (m5.large)")
    ap.add_argument("--gpu-nodes", type=int, default=200, help="simulated GPU nodes (g6e.2xlarge with the agent)")
    ap.add_argument("--scale-time-scale", type=float, default=20)
    ap.add_argument("--only", choices=["latency", "scale"])
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="gpufleet-up-bench-")
    out = {"bench": "up", "cpus": os.cpu_count()}
    if a.only in (None, "latency"):
        runs = [latency_run(a.gpufleet, work, i) for i in range(a.runs)]
        out["latency_median"] = {k: round(sorted(r[k] for r in runs)[len(runs) // 2], 3) for k in runs[0]}
        out["latency_runs"] = len(runs)
    if a.only in (None, "scale"):
        if a.nodes:
            out["scale_cpu"] = scale_run(a.gpufleet, work, a.nodes, a.scale_time_scale, False)
        if a.gpu_nodes:
            out["scale_gpu"] = scale_run(a.gpufleet, work, a.gpu_nodes, a.scale_time_scale, True)
    subprocess.run(["rm", "-rf", work])
    print(json.dumps(out))

if __name__ == "__main__":
    main()
