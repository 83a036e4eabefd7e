// The emulator's instance-type catalog, read from data/aws-instance-types.json (Karpenter's
// published instance-type table plus on-demand prices): what DescribeInstanceTypes,
// DescribeInstanceTypeOfferings and DescribeSpotPriceHistory answer, and what launches charge.
//
// Honest where the data is, synthetic (and documented as such) where it is not:
// - every type is offered in every zone of the region when it has an on-demand price there, or
//   failing that a us-east-1 price (the table prices 69 types in us-west-2, 1,345 in us-east-1);
// - spot prices are a stable 30-70 % of on-demand per (type, zone), not a market.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::cloud::ec2emu {

struct CatalogType {
  std::string name;
  std::string arch;  // EC2 spelling: x86_64 or arm64
  double on_demand_price = 0;  // USD/hour in the catalog's region
  nlohmann::json info;         // InstanceTypeInfo in its XML wire shape
};

class Catalog {
 public:
  // Loads `data_file` for `region`. Fails naming the file when it is missing or malformed, or
  // when the region is unknown (no type is priced there or in us-east-1).
  static Result<Catalog> Load(const std::string& data_file, const std::string& region);

  const std::string& region() const { return region_; }
  const std::vector<std::string>& zones() const { return zones_; }
  // "usw2-az1" for "us-west-2a": the zone id EC2 reports beside the zone name.
  std::string ZoneId(std::string_view zone) const;
  bool HasZone(std::string_view zone) const;
  const std::vector<CatalogType>& types() const { return types_; }
  const CatalogType* Find(std::string_view name) const;
  double SpotPrice(const CatalogType& type, std::string_view zone) const;

 private:
  std::string region_;
  std::vector<std::string> zones_;
  std::vector<CatalogType> types_;  // sorted by name
  std::map<std::string, size_t, std::less<>> by_name_;
};

// The zones a region's emulation has: four for us-east-1 and us-west-2, three elsewhere.
std::vector<std::string> ZonesOf(std::string_view region);

}  // namespace gpufleet::cloud::ec2emu
