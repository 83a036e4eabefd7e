#include "kube/types/lease.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, LeaseSpec& out) {
  return FieldReader(j, path)
      .Str("holderIdentity", out.holder_identity)
      .Int32("leaseDurationSeconds", out.lease_duration_seconds)
      .Str("acquireTime", out.acquire_time)
      .Str("renewTime", out.renew_time)
      .Int32("leaseTransitions", out.lease_transitions)
      .Str("strategy", out.strategy)
      .Str("preferredHolder", out.preferred_holder)
      .status();
}

json Encode(const LeaseSpec& v) {
  return FieldWriter()
      .Str("holderIdentity", v.holder_identity)
      .Int("leaseDurationSeconds", v.lease_duration_seconds)
      .Str("acquireTime", v.acquire_time)
      .Str("renewTime", v.renew_time)
      .Int("leaseTransitions", v.lease_transitions)
      .Str("strategy", v.strategy)
      .Str("preferredHolder", v.preferred_holder)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Lease& out) {
  return FieldReader(j, path).Obj("metadata", out.metadata).Obj("spec", out.spec).status();
}

json Encode(const Lease& v) {
  return FieldWriter().Always("metadata", Encode(v.metadata)).Obj("spec", v.spec).Take();
}

}  // namespace gpufleet::kube
