#include "cloud/aws/user_data.h"

#include <algorithm>
#include <cctype>

#include "core/yaml.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws {

namespace {

constexpr std::string_view kNodeConfigType = "application/node.eks.aws";


std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Splits "headers\n\nbody" (CRLF tolerated). Header lines without a colon are an error.
Result<MimePart> ParsePart(std::string_view text, std::string_view where) {
  MimePart part;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return InvalidArgumentError(std::string(where) + ": header line \"" + std::string(line) + "\" has no ':'");
    }
    part.headers[core::AsciiLower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  part.body = std::string(text.substr(pos));
  return part;
}

std::string BoundaryOf(std::string_view content_type) {
  const std::string lower = core::AsciiLower(content_type);
  size_t at = lower.find("boundary=");
  if (at == std::string::npos) return "";
  std::string_view rest = content_type.substr(at + 9);
  if (!rest.empty() && rest.front() == '"') {
    size_t end = rest.find('"', 1);
    return end == std::string_view::npos ? "" : std::string(rest.substr(1, end - 1));
  }
  size_t end = rest.find_first_of("; \t\r\n");
  return std::string(rest.substr(0, end));
}

// A string member, or "" when it is absent or not a string (user data is untrusted).
std::string StringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string QuoteList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

}  // namespace

std::string MimePart::content_type() const {
  auto it = headers.find("content-type");
  if (it == headers.end()) return "text/plain";
  return core::AsciiLower(Trim(it->second.substr(0, it->second.find(';'))));
}

Result<std::vector<MimePart>> SplitUserData(std::string_view text) {
  std::vector<MimePart> parts;
  if (Trim(text).empty()) return parts;
  const std::string lower_head = core::AsciiLower(text.substr(0, 512));
  if (lower_head.rfind("mime-version:", 0) != 0 && lower_head.find("content-type: multipart") == std::string::npos) {
    // Not MIME: a NodeConfig document or a script.
    MimePart part;
    const bool node_config = text.find("node.eks.aws/") != std::string_view::npos &&
                             text.find("NodeConfig") != std::string_view::npos;
    part.headers["content-type"] = node_config ? std::string(kNodeConfigType) : "text/x-shellscript; charset=\"us-ascii\"";
    part.body = std::string(text);
    parts.push_back(std::move(part));
    return parts;
  }
  GF_ASSIGN_OR_RETURN(MimePart outer, ParsePart(text, "userData"));
  const std::string boundary = BoundaryOf(outer.headers["content-type"]);
  if (outer.content_type().rfind("multipart/", 0) != 0 || boundary.empty()) {
    return InvalidArgumentError("userData: a MIME document must be multipart with a boundary (Content-Type: multipart/mixed; boundary=\"//\")");
  }
  const std::string delimiter = "--" + boundary;
  std::string_view body = outer.body;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return InvalidArgumentError("userData: no part starts with \"" + delimiter + "\"");
  bool closed = false;
  while (pos != std::string_view::npos) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") {
      closed = true;
      break;
    }
    size_t start = body.find('\n', pos);
    if (start == std::string_view::npos) break;
    ++start;
    size_t next = body.find("\n" + delimiter, start - 1);
    std::string_view chunk = body.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start + 1);
    GF_ASSIGN_OR_RETURN(MimePart part, ParsePart(chunk, "userData part " + std::to_string(parts.size() + 1)));
    parts.push_back(std::move(part));
    pos = next == std::string_view::npos ? next : next + 1;
  }
  if (!closed) return InvalidArgumentError("userData: the MIME document does not end with \"" + delimiter + "--\"");
  return parts;
}

Result<std::string> Al2023UserData(const NodeadmInput& in) {
  GF_ASSIGN_OR_RETURN(auto custom, SplitUserData(in.custom));
  // Karpenter's boundary is "//"; a part that contains "--//" itself (a script printing it, a
  // bare document) would end early, so another boundary is chosen then.
  std::string boundary = "//";
  for (int n = 1;; ++n) {
    const std::string delimiter = "--" + boundary;
    if (std::none_of(custom.begin(), custom.end(), [&](const MimePart& p) {
          return p.body.find(delimiter) != std::string::npos ||
                 std::any_of(p.headers.begin(), p.headers.end(),
                             [&](const auto& h) { return h.second.find(delimiter) != std::string::npos; });
        })) {
      break;
    }
    boundary = "//gpufleet-" + std::to_string(n);
  }
  std::string out = "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"" + boundary + "\"\n\n";
  for (const auto& part : custom) {
    out += "--" + boundary + "\n";
    for (const auto& [name, value] : part.headers) {
      // Canonical header names as MIME writers use them.
      std::string header = name;
      bool upper = true;
      for (char& c : header) {
        if (upper) c = char(std::toupper(static_cast<unsigned char>(c)));
        upper = c == '-';
      }
      out += header + ": " + value + "\n";
    }
    out += "\n" + part.body;
    if (out.back() != '\n') out += "\n";
  }
  std::vector<std::string> labels;
  for (const auto& [k, v] : in.labels) labels.push_back(k.str() + "=" + v.str());
  std::vector<std::string> taints;
  for (const auto& t : in.taints) taints.push_back(t.ToString());
  out += "--" + boundary + "\nContent-Type: " + std::string(kNodeConfigType) + "\n\n";
  out += "apiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  cluster:\n";
  out += "    apiServerEndpoint: " + in.api_server_endpoint + "\n";
  out += "    certificateAuthority: " + in.certificate_authority + "\n";
  if (!in.service_cidr.empty()) out += "    cidr: " + in.service_cidr + "\n";
  out += "    name: " + in.cluster_name + "\n";
  out += "  kubelet:\n    config:\n";
  if (!in.cluster_dns.empty()) {
    out += "      clusterDNS:\n";
    for (const auto& dns : in.cluster_dns) out += "      - " + dns + "\n";
  }
  if (in.max_pods) out += "      maxPods: " + std::to_string(*in.max_pods) + "\n";
  out += "    flags:\n";
  out += "    - --node-labels=\"" + QuoteList(labels) + "\"\n";
  if (!taints.empty()) out += "    - --register-with-taints=\"" + QuoteList(taints) + "\"\n";
  out += "\n--" + boundary + "--\n";
  return out;
}

Result<NodeConfigSummary> ParseAl2023UserData(std::string_view text) {
  GF_ASSIGN_OR_RETURN(auto parts, SplitUserData(text));
  NodeConfigSummary summary;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& part = parts[i];
    const std::string type = part.content_type();
    if (type == "text/x-shellscript") ++summary.scripts;
    if (type != kNodeConfigType) continue;
    const std::string where = "userData part " + std::to_string(i + 1);
    auto docs = core::YamlToJson(part.body);
    if (!docs.ok()) return InvalidArgumentError(where + ": " + std::string(docs.status().message()));
    for (const auto& doc : *docs) {
      if (!doc.is_object() || StringField(doc, "kind") != "NodeConfig") continue;
      const auto spec = doc.contains("spec") ? doc["spec"] : nlohmann::json::object();
      if (!spec.is_object()) return InvalidArgumentError(where + ": spec must be a mapping");
      if (auto cluster = spec.find("cluster"); cluster != spec.end() && cluster->is_object()) {
        if (cluster->contains("name")) summary.cluster_name = StringField(*cluster, "name");
        if (cluster->contains("apiServerEndpoint")) summary.api_server_endpoint = StringField(*cluster, "apiServerEndpoint");
      }
      if (auto gates = spec.find("featureGates"); gates != spec.end() && gates->is_object()) {
        for (auto g = gates->begin(); g != gates->end(); ++g) {
          if (!g->is_boolean()) return InvalidArgumentError(where + ": featureGates." + g.key() + " must be true or false");
          summary.feature_gates[g.key()] = g->get<bool>();
        }
      }
      const auto kubelet = spec.contains("kubelet") ? spec["kubelet"] : nlohmann::json::object();
      if (kubelet.is_object()) {
        if (auto config = kubelet.find("config"); config != kubelet.end() && config->is_object() && config->contains("maxPods")) {
          if (!(*config)["maxPods"].is_number_integer()) return InvalidArgumentError(where + ": kubelet.config.maxPods must be an integer");
          summary.max_pods = (*config)["maxPods"].get<int64_t>();
        }
        const auto flags = kubelet.contains("flags") ? kubelet["flags"] : nlohmann::json::array();
        for (const auto& flag : flags.is_array() ? flags : nlohmann::json::array()) {
          if (!flag.is_string()) continue;
          std::string f = flag.get<std::string>();
          auto value_of = [&](std::string_view name) -> std::optional<std::string> {
            if (f.rfind(name, 0) != 0) return std::nullopt;
            std::string v = f.substr(name.size());
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return v;
          };
          auto split = [](const std::string& list) {
            std::vector<std::string> items;
            size_t start = 0;
            while (start < list.size()) {
              size_t comma = list.find(',', start);
              items.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
              if (comma == std::string::npos) break;
              start = comma + 1;
            }
            return items;
          };
          if (auto labels = value_of("--node-labels=")) {
            for (const auto& item : split(*labels)) {
              size_t eq = item.find('=');
              if (eq == std::string::npos) return InvalidArgumentError(where + ": --node-labels item \"" + item + "\" is not key=value");
              summary.labels[core::InternedString(item.substr(0, eq))] = core::InternedString(item.substr(eq + 1));
            }
          } else if (auto taints = value_of("--register-with-taints=")) {
            for (const auto& item : split(*taints)) {
              auto taint = core::ParseTaint(item);
              if (!taint.ok()) return InvalidArgumentError(where + ": --register-with-taints: " + std::string(taint.status().message()));
              summary.taints.push_back(*taint);
            }
          }
        }
      }
    }
  }
  return summary;
}

}  // namespace gpufleet::cloud::aws
