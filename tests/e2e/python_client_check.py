"""Drives the API server with Debian's python3-kubernetes: an independent client with its own
encoders, kubeconfig loader and watch decoder. Exits non-zero with a message on any mismatch."""
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "pyclient"


def expect(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)


def main():
    config.load_kube_config()  # KUBECONFIG from the environment: the server's admin kubeconfig
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    ns = core.read_namespace(NS)
    expect(ns.status.phase == "Active", "namespace phase is %r" % ns.status.phase)

    # create / read / list with a label selector
    for i in range(3):
        core.create_namespaced_config_map(NS, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="cm-%d" % i, labels={"tier": "gpu" if i < 2 else "cpu"}),
            data={"index": str(i)}))
    gpu = core.list_namespaced_config_map(NS, label_selector="tier=gpu")
    expect(sorted(c.metadata.name for c in gpu.items) == ["cm-0", "cm-1"],
           "label selector list returned %s" % [c.metadata.name for c in gpu.items])
    page = core.list_namespaced_config_map(NS, limit=2)
    expect(len(page.items) == 2 and page.metadata._continue, "limit=2 gave no continue token")
    rest = core.list_namespaced_config_map(NS, limit=2, _continue=page.metadata._continue)
    expect([c.metadata.name for c in rest.items] == ["cm-2"], "second page is wrong")
    rv = core.list_namespaced_config_map(NS).metadata.resource_version

    # watch from the list's resourceVersion while another thread patches and deletes
    def writer():
        core.patch_namespaced_config_map("cm-0", NS, {"data": {"index": "patched"}})
        core.delete_namespaced_config_map("cm-1", NS)
    events = []
    stream = watch.Watch()
    t = threading.Thread(target=writer)
    t.start()
    for event in stream.stream(core.list_namespaced_config_map, NS, resource_version=rv,
                               timeout_seconds=30):
        events.append((event["type"], event["object"].metadata.name))
        if len(events) == 2:
            stream.stop()
    t.join()
    expect(events == [("MODIFIED", "cm-0"), ("DELETED", "cm-1")], "watch events were %s" % events)
    expect(core.read_namespaced_config_map("cm-0", NS).data["index"] == "patched", "patch lost")

    # optimistic concurrency: replacing with a stale resourceVersion is a 409
    stale = core.read_namespaced_config_map("cm-2", NS)
    core.patch_namespaced_config_map("cm-2", NS, {"metadata": {"labels": {"x": "1"}}})
    try:
        core.replace_namespaced_config_map("cm-2", NS, stale)
        expect(False, "stale replace succeeded")
    except ApiException as e:
        expect(e.status == 409, "stale replace gave %d" % e.status)

    # a typed apps/v1 object round-trips through the client's models
    apps.create_namespaced_deployment(NS, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(
                    name="web", image="nginx",
                    resources=client.V1ResourceRequirements(limits={"nvidia.com/gpu": "1"}))])))))
    d = apps.read_namespaced_deployment("web", NS)
    expect(d.spec.replicas == 2, "deployment replicas %r" % d.spec.replicas)
    expect(d.spec.template.spec.containers[0].resources.limits == {"nvidia.com/gpu": "1"},
           "deployment limits %r" % d.spec.template.spec.containers[0].resources.limits)

    # errors come back as Kubernetes Status objects
    try:
        core.read_namespaced_config_map("missing", NS)
        expect(False, "reading a missing object succeeded")
    except ApiException as e:
        expect(e.status == 404 and '"reason":"NotFound"' in e.body.replace(" ", ""),
               "missing object gave %d %s" % (e.status, e.body))

    core.delete_namespace(NS)
    print("python3-kubernetes: create/list/watch/patch/replace/delete OK")


if __name__ == "__main__":
    main()
