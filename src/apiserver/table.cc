// Table: dispatch to the built-in printers, the CRD (additionalPrinterColumns) convertor of
// apiextensions-apiserver's tableconvertor.go and the default convertor of
// k8s.io/apiserver/pkg/registry/rest/table.go, plus the includeObject handling of
// k8s.io/apiserver/pkg/endpoints/handlers/response.go (asTable).
#include "apiserver/table.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/jsonpath.h"
#include "apiserver/table_printers.h"

namespace gpufleet::apiserver {

using table_internal::Column;
using table_internal::Get;
using table_internal::Printer;
using table_internal::Timestamp;
using json = nlohmann::json;

Result<IncludeObject> ParseIncludeObject(std::string_view value) {
  if (value.empty() || value == "Metadata") return IncludeObject::kMetadata;
  if (value == "Object") return IncludeObject::kObject;
  if (value == "None") return IncludeObject::kNone;
  return InvalidArgumentError("unrecognized includeObject value: \"" + std::string(value) + "\"");
}

std::string HumanDuration(core::Duration d) {
  constexpr int64_t kSecond = 1'000'000'000;
  const int64_t ns = d.count();
  const int64_t seconds = ns / kSecond;  // truncates toward zero, as Go's int(d.Seconds())
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return std::to_string(seconds) + "s";
  const int64_t minutes = ns / (60 * kSecond);
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return std::to_string(minutes) + "m" + (s == 0 ? "" : std::to_string(s) + "s");
  }
  if (minutes < 60 * 3) return std::to_string(minutes) + "m";
  const int64_t hours = ns / (3600 * kSecond);
  if (hours < 8) {
    int64_t m = minutes % 60;
    return std::to_string(hours) + "h" + (m == 0 ? "" : std::to_string(m) + "m");
  }
  if (hours < 48) return std::to_string(hours) + "h";
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return std::to_string(hours / 24) + "d" + (h == 0 ? "" : std::to_string(h) + "h");
  }
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24) + "d";
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return std::to_string(hours / 24 / 365) + "y" + (dy == 0 ? "" : std::to_string(dy) + "d");
  }
  return std::to_string(hours / 24 / 365) + "y";
}

namespace table_internal {

std::optional<Timestamp> ParseTimestamp(std::string_view text) {
  if (text.empty() || text == "null") return Timestamp{};
  auto num = [&](size_t pos, size_t n, int* out) {
    if (pos + n > text.size()) return false;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, &y) || text.size() < 20 || text[4] != '-' || !num(5, 2, &mo) || text[7] != '-' ||
      !num(8, 2, &d) || text[10] != 'T' || !num(11, 2, &h) || text[13] != ':' || !num(14, 2, &mi) ||
      text[16] != ':' || !num(17, 2, &s)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                        std::chrono::day{unsigned(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  size_t pos = 19;
  int32_t nanos = 0;
  if (text[pos] == '.') {
    size_t start = ++pos;
    int digits = 0;
    for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos) {
      if (digits++ < 9) nanos = nanos * 10 + (text[pos] - '0');
    }
    if (pos == start) return std::nullopt;
    for (; digits < 9; ++digits) nanos *= 10;
  }
  int64_t offset = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!num(pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !num(pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (text[pos] == '-' ? -1 : 1) * (int64_t{oh} * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  const int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  return Timestamp{days * 86400 + h * 3600 + mi * 60 + s - offset, nanos};
}

Timestamp TimestampOf(const json* v) {
  if (v == nullptr || !v->is_string()) return Timestamp{};
  return ParseTimestamp(v->get_ref<const std::string&>()).value_or(Timestamp{});
}

std::string FormatRfc3339Utc(const Timestamp& t) {
  int64_t days = t.seconds / 86400;
  int64_t rem = t.seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(rem / 3600), int(rem / 60 % 60),
                int(rem % 60));
  return buf;
}

std::string Since(const Timestamp& t, core::TimePoint now) {
  if (t.IsZero()) return "<unknown>";
  constexpr int64_t kSecond = 1'000'000'000;
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t now_s = now_ns / kSecond;
  int64_t now_frac = now_ns % kSecond;
  if (now_frac < 0) {
    now_frac += kSecond;
    --now_s;
  }
  const int64_t ds = now_s - t.seconds;  // |ds| < 2^39 for years 0000-9999
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t ns;
  if (ds > kMax / kSecond - 1) {
    ns = kMax;  // Go's Time.Sub saturates
  } else if (ds < -(kMax / kSecond) + 1) {
    ns = std::numeric_limits<int64_t>::min();
  } else {
    ns = ds * kSecond + (now_frac - t.nanos);
  }
  return HumanDuration(core::Duration(ns));
}

const json* Get(const json* obj, std::string_view key) {
  if (obj == nullptr || !obj->is_object()) return nullptr;
  auto it = obj->find(key);
  if (it == obj->end() || it->is_null()) return nullptr;
  return &*it;
}

const json* Get(const json* obj, std::initializer_list<std::string_view> path) {
  for (std::string_view key : path) obj = Get(obj, key);
  return obj;
}

std::string Str(const json* v) {
  return v != nullptr && v->is_string() ? v->get<std::string>() : "";
}

int64_t Int(const json* v) {
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double f = v->get<double>();
    return std::isfinite(f) && std::fabs(f) < 9.2e18 ? static_cast<int64_t>(f) : 0;
  }
  return 0;
}

bool Bool(const json* v) { return v != nullptr && v->is_boolean() && v->get<bool>(); }

size_t Count(const json* v) {
  return v != nullptr && (v->is_object() || v->is_array()) ? v->size() : 0;
}

const json& Elements(const json* v) {
  static const json* const kEmpty = new json(json::array());
  return v != nullptr && v->is_array() ? *v : *kEmpty;
}

const Printer* FindPrinter(std::string_view group, std::string_view kind) {
  static const PrinterMap* const kPrinters = [] {
    auto* m = new PrinterMap();
    AddCorePrinters(m);
    AddWorkloadPrinters(m);
    return m;
  }();
  auto it = kPrinters->find(std::string(group) + "/" + std::string(kind));
  return it == kPrinters->end() ? nullptr : &it->second;
}

}  // namespace table_internal

namespace {

// One CRD column: its definition and parsed path (nullopt when the path does not parse, which
// leaves every cell null).
struct CrdColumn {
  const PrinterColumn* def;
  std::optional<JsonPath> path;
};

// tableconvertor.go cellForJSONValue, for the non-string types.
json TypedCell(const std::string& type, const json& v, core::TimePoint now) {
  if (type == "integer") {
    if (v.is_number_integer()) return v.get<int64_t>();
    if (v.is_number_float()) return table_internal::Int(&v);
  } else if (type == "number") {
    if (v.is_number()) return v.get<double>();
  } else if (type == "boolean") {
    if (v.is_boolean()) return v.get<bool>();
  } else if (type == "date") {
    if (v.is_string()) {
      auto t = table_internal::ParseTimestamp(v.get_ref<const std::string&>());
      if (!t.has_value()) return "<invalid>";
      return table_internal::Since(*t, now);
    }
  }
  return nullptr;
}

json CrdCells(const json& obj, const std::vector<CrdColumn>& columns, core::TimePoint now) {
  json cells = json::array();
  cells.push_back(table_internal::Str(Get(Get(&obj, "metadata"), "name")));
  for (const CrdColumn& c : columns) {
    std::vector<const json*> found;
    if (c.path.has_value()) found = c.path->Evaluate(obj);
    if (found.empty()) {
      cells.push_back(nullptr);
    } else if (c.def->type == "string") {
      // client-go prints the value re-wrapped in an interface: JSON null reads "<no value>".
      cells.push_back(found[0]->is_null() ? "<no value>" : JsonPathText(*found[0]));
    } else {
      cells.push_back(found[0]->is_null() ? json(nullptr) : TypedCell(c.def->type, *found[0], now));
    }
  }
  return cells;
}

json ColumnJson(std::string_view name, std::string_view type, std::string_view format,
                std::string_view description, int priority) {
  return json{{"name", name},
              {"type", type},
              {"format", format},
              {"description", description},
              {"priority", priority}};
}

json RowObject(const json& obj, const TableOptions& opts) {
  switch (opts.include_object) {
    case IncludeObject::kObject:
      return obj;
    case IncludeObject::kNone:
      return nullptr;
    case IncludeObject::kMetadata:
      break;
  }
  const json* md = Get(&obj, "metadata");
  json meta = md != nullptr && md->is_object() ? *md : json::object();
  // ObjectMeta.creationTimestamp is written even when zero.
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = nullptr;
  return json{{"kind", "PartialObjectMetadata"},
              {"apiVersion", "meta.k8s.io/" + opts.version},
              {"metadata", std::move(meta)}};
}

bool UsesCrdColumns(const ResourceInfo& info, const Printer* printer) {
  return info.from_crd || (printer == nullptr && !info.columns.empty());
}

}  // namespace

json TableColumnDefinitions(const ResourceInfo& info) {
  const Printer* printer = table_internal::FindPrinter(info.group, info.kind);
  json defs = json::array();
  if (UsesCrdColumns(info, printer)) {
    defs.push_back(ColumnJson("Name", "string", "name", table_internal::kNameDescription, 0));
    for (const PrinterColumn& c : info.columns) {
      std::string desc =
          c.description.empty()
              ? "Custom resource definition column (in JSONPath format): " + c.json_path
              : c.description;
      defs.push_back(ColumnJson(c.name, c.type, c.format, desc, c.priority));
    }
  } else if (printer != nullptr) {
    for (const Column& c : printer->columns) {
      defs.push_back(ColumnJson(c.name, c.type, c.format, c.description, c.priority));
    }
  } else {
    defs.push_back(ColumnJson("Name", "string", "name", table_internal::kNameDescription, 0));
    defs.push_back(ColumnJson("Created At", "date", "", table_internal::kCreationDescription, 0));
  }
  return defs;
}

json ToTable(const ResourceInfo& info, const std::vector<const json*>& objects,
             const TableOptions& opts) {
  const Printer* printer = table_internal::FindPrinter(info.group, info.kind);
  const bool crd = UsesCrdColumns(info, printer);
  std::vector<CrdColumn> columns;
  if (crd) {
    for (const PrinterColumn& c : info.columns) {
      auto parsed = JsonPath::Parse(c.json_path);
      columns.push_back(
          CrdColumn{&c, parsed.ok() ? std::optional<JsonPath>(*parsed) : std::nullopt});
    }
  }
  const table_internal::RowContext ctx{opts.now, info.group};
  json rows = json::array();
  for (const json* obj : objects) {
    if (obj == nullptr) continue;
    json row = json::object();
    json conditions = json::array();
    if (crd) {
      row["cells"] = CrdCells(*obj, columns, opts.now);
    } else if (printer != nullptr) {
      json cells = json::array();
      printer->row(*obj, ctx, &cells, &conditions);
      row["cells"] = std::move(cells);
    } else {
      const json* md = Get(obj, "metadata");
      row["cells"] = json::array({table_internal::Str(Get(md, "name")),
                                  table_internal::FormatRfc3339Utc(
                                      table_internal::TimestampOf(Get(md, "creationTimestamp")))});
    }
    if (!conditions.empty()) row["conditions"] = std::move(conditions);
    row["object"] = RowObject(*obj, opts);
    rows.push_back(std::move(row));
  }
  json meta = json::object();
  if (!opts.resource_version.empty()) meta["resourceVersion"] = opts.resource_version;
  if (!opts.continue_token.empty()) meta["continue"] = opts.continue_token;
  if (opts.remaining_item_count.has_value()) {
    meta["remainingItemCount"] = *opts.remaining_item_count;
  }
  json table = json::object();
  table["kind"] = "Table";
  table["apiVersion"] = "meta.k8s.io/" + opts.version;
  table["metadata"] = std::move(meta);
  table["columnDefinitions"] = opts.no_headers ? json(nullptr) : TableColumnDefinitions(info);
  table["rows"] = std::move(rows);
  return table;
}

}  // namespace gpufleet::apiserver
