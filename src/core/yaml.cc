// YAML -> JSON. yaml-cpp parses into events; a TreeBuilder records each document as a flat node
// list that keeps what yaml-cpp's Node API hides (aliases as aliases, tags, positions), and a
// Converter walks it with go-yaml v2's typing (core/yaml_scalar.h).
#include "core/yaml.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <map>
#include <new>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "core/yaml_scalar.h"

namespace gpufleet::core {
namespace {

using nlohmann::json;
using yaml_internal::PlainScalar;
using Kind = PlainScalar::Kind;

constexpr int kDepthCeiling = 1000;  // Keeps the recursive Converter well inside the stack.
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

enum class NodeKind : uint8_t { kNull, kScalar, kSequence, kMapping, kAlias };

struct Node {
  NodeKind kind = NodeKind::kNull;
  bool open = false;    // A collection whose end event has not arrived yet.
  bool shared = false;  // Anchored or inside an anchored node: may be converted more than once.
  int line = 0;         // 1-based.
  int column = 0;
  uint32_t target = 0;  // kAlias: the anchored node.
  std::string tag;      // "?" plain, "!" quoted/block/non-specific, else the resolved tag.
  std::string value;
  std::vector<uint32_t> children;  // Mappings: key, value, key, value...
};

std::string Where(const Node& n) {
  return "line " + std::to_string(n.line) + ":" + std::to_string(n.column);
}

std::string Quote(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return "\"" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...\"" : "\"");
}

// Reads a string_view through std::istream without copying it.
class ViewBuf : public std::streambuf {
 public:
  explicit ViewBuf(std::string_view s) {
    char* p = const_cast<char*>(s.data());  // Read-only: the get area is never written.
    setg(p, p, p + s.size());
  }
};

class Converter {
 public:
  Converter(std::vector<Node>& nodes, const YamlOptions& options, int document,
            std::size_t* produced)
      : nodes_(nodes), options_(options), document_(document), produced_(produced) {}

  Status Convert(uint32_t id, int depth, json* out) {
    if (++*produced_ > options_.max_nodes) {
      return Error(StatusCode::kOutOfRange, nodes_[id],
                   "more than " + std::to_string(options_.max_nodes) +
                       " JSON values (alias expansion?); see YamlOptions::max_nodes");
    }
    Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kNull:
        *out = nullptr;
        return OkStatus();
      case NodeKind::kAlias:
        --*produced_;  // The target counts itself.
        return Convert(n.target, depth, out);
      case NodeKind::kScalar:
        return ConvertScalar(n, out);
      case NodeKind::kSequence:
      case NodeKind::kMapping:
        break;
    }
    int max_depth = std::min(options_.max_depth, kDepthCeiling);
    if (depth >= max_depth) {
      return Error(StatusCode::kOutOfRange, n,
                   "nesting deeper than " + std::to_string(max_depth) + " levels");
    }
    if (n.kind == NodeKind::kMapping) return ConvertMapping(id, depth + 1, out);
    *out = json::array();
    out->get_ref<json::array_t&>().reserve(n.children.size());
    for (uint32_t child : n.children) {
      json item;
      GF_RETURN_IF_ERROR(Convert(child, depth + 1, &item));
      out->push_back(std::move(item));
    }
    return OkStatus();
  }

 private:
  Status Error(StatusCode code, const Node& n, std::string_view message) const {
    return Status(code, "yaml: document " + std::to_string(document_) + ", " + Where(n) + ": " +
                            std::string(message));
  }

  uint32_t Deref(uint32_t id) const {
    return nodes_[id].kind == NodeKind::kAlias ? nodes_[id].target : id;
  }

  // Types a scalar node as go-yaml v2 does for its tag.
  Status Resolve(const Node& n, PlainScalar* out) const {
    if (n.kind == NodeKind::kNull) {
      *out = PlainScalar{};
      out->kind = Kind::kNull;
      return OkStatus();
    }
    if (n.tag == "?") {
      *out = yaml_internal::ResolvePlain(n.value);
      return OkStatus();
    }
    *out = PlainScalar{};  // A string.
    std::string_view tag = n.tag;
    if (tag.substr(0, kTagPrefix.size()) != kTagPrefix) return OkStatus();
    tag.remove_prefix(kTagPrefix.size());
    if (tag == "binary") {
      return Error(StatusCode::kInvalidArgument, n, "!!binary is not supported");
    }
    Kind want;
    if (tag == "int") {
      want = Kind::kInt;
    } else if (tag == "float") {
      want = Kind::kFloat;
    } else if (tag == "bool") {
      want = Kind::kBool;
    } else if (tag == "null") {
      want = Kind::kNull;
    } else {
      return OkStatus();  // !!str, !!timestamp, !!merge, !!set...: the text, as v2 gives it.
    }
    *out = yaml_internal::ResolvePlain(n.value);
    Kind got = out->kind;
    bool integer = got == Kind::kInt || got == Kind::kUint || got == Kind::kBigInt;
    if (want == Kind::kFloat && integer) {
      double v = got == Kind::kInt    ? static_cast<double>(out->int_value)
                 : got == Kind::kUint ? static_cast<double>(out->uint_value)
                                      : out->float_value;
      *out = PlainScalar{};
      out->kind = Kind::kFloat;
      out->float_value = v;
      return OkStatus();
    }
    if (got == want || (want == Kind::kInt && integer)) return OkStatus();
    return Error(StatusCode::kInvalidArgument, n,
                 "cannot decode " + Quote(n.value) + " as !!" + std::string(tag));
  }

  Status ConvertScalar(Node& n, json* out) {
    PlainScalar s;
    GF_RETURN_IF_ERROR(Resolve(n, &s));
    switch (s.kind) {
      case Kind::kNull:
        *out = nullptr;
        break;
      case Kind::kBool:
        *out = s.bool_value;
        break;
      case Kind::kInt:
        *out = s.int_value;
        break;
      case Kind::kUint:
        *out = s.uint_value;
        break;
      case Kind::kFloat:
      case Kind::kBigInt: {
        double v = s.float_value;
        if (!std::isfinite(v)) {
          return Error(StatusCode::kInvalidArgument, n,
                       Quote(n.value) + " is not a finite number, which JSON cannot represent");
        }
        // Go's encoding/json prints integral floats without a fraction ("1000" for 1e3).
        if (std::trunc(v) == v && std::fabs(v) < 9007199254740992.0) {
          *out = static_cast<int64_t>(v);
        } else {
          *out = v;
        }
        break;
      }
      case Kind::kString:
        // A node that no alias can reach is converted once, so its text can be moved out.
        *out = n.shared ? n.value : std::move(n.value);
        break;
    }
    return OkStatus();
  }

  // A map key as sigs.k8s.io/yaml turns it into a JSON object key.
  Status KeyString(uint32_t key_id, std::string* out) const {
    const Node& n = nodes_[Deref(key_id)];
    if (n.kind == NodeKind::kMapping || n.kind == NodeKind::kSequence) {
      return Error(StatusCode::kInvalidArgument, nodes_[key_id],
                   "mapping and sequence keys are not supported");
    }
    PlainScalar s;
    GF_RETURN_IF_ERROR(Resolve(n, &s));
    switch (s.kind) {
      case Kind::kString:
        *out = n.value;
        return OkStatus();
      case Kind::kBool:
        *out = s.bool_value ? "true" : "false";
        return OkStatus();
      case Kind::kInt:
        *out = std::to_string(s.int_value);
        return OkStatus();
      case Kind::kFloat:
        *out = yaml_internal::FormatFloatKey(s.float_value);
        return OkStatus();
      case Kind::kNull:
        return Error(StatusCode::kInvalidArgument, nodes_[key_id], "null keys are not supported");
      case Kind::kUint:
      case Kind::kBigInt:
        break;
    }
    return Error(StatusCode::kInvalidArgument, nodes_[key_id],
                 "integer key " + Quote(n.value) + " does not fit in int64");
  }

  static bool IsMergeKey(const Node& n) {
    return n.kind == NodeKind::kScalar && n.value == "<<" &&
           (n.tag == "?" || n.tag == std::string(kTagPrefix) + "merge");
  }

  Status DuplicateKey(const Node& parent, std::size_t index, const std::string& key) const {
    const Node& dup = nodes_[parent.children[index]];
    std::string first;
    for (std::size_t i = 0; i < index; i += 2) {
      std::string other;
      if (KeyString(parent.children[i], &other).ok() && other == key) {
        first = " (first at " + Where(nodes_[parent.children[i]]) + ")";
        break;
      }
    }
    return Error(StatusCode::kInvalidArgument, dup, "duplicate key " + Quote(key) + first);
  }

  // Copies the keys of the mapping source that *out does not have yet.
  Status MergeFrom(uint32_t source, int depth, const Node& merge_key, json* out) {
    if (nodes_[Deref(source)].kind != NodeKind::kMapping) {
      return Error(StatusCode::kInvalidArgument, merge_key,
                   "merge key << needs a mapping or a sequence of mappings");
    }
    json from;
    GF_RETURN_IF_ERROR(Convert(source, depth - 1, &from));
    for (auto& [key, value] : from.get_ref<json::object_t&>()) {
      out->get_ref<json::object_t&>().emplace(key, std::move(value));
    }
    return OkStatus();
  }

  Status ConvertMapping(uint32_t id, int depth, json* out) {
    *out = json::object();
    auto& object = out->get_ref<json::object_t&>();
    std::vector<std::size_t> merges;                 // Indexes of << keys in children.
    std::size_t count = nodes_[id].children.size();  // Keys and values.
    for (std::size_t i = 0; i + 1 < count; i += 2) {
      uint32_t key_id = nodes_[id].children[i];
      if (IsMergeKey(nodes_[key_id])) {
        merges.push_back(i);
        continue;
      }
      std::string key;
      GF_RETURN_IF_ERROR(KeyString(key_id, &key));
      auto it = object.find(key);
      if (it != object.end() && !options_.allow_duplicate_keys) {
        return DuplicateKey(nodes_[id], i, key);
      }
      json value;
      GF_RETURN_IF_ERROR(Convert(nodes_[id].children[i + 1], depth, &value));
      if (it != object.end()) {
        it->second = std::move(value);
      } else {
        object.emplace(std::move(key), std::move(value));
      }
    }
    // A later << overrides an earlier one (as in go-yaml v2); inside one list earlier wins.
    for (auto m = merges.rbegin(); m != merges.rend(); ++m) {
      const Node& merge_key = nodes_[nodes_[id].children[*m]];
      uint32_t value_id = nodes_[id].children[*m + 1];
      const Node& value = nodes_[value_id];  // go-yaml v2 rejects an alias to a sequence here.
      if (value.kind == NodeKind::kSequence) {
        for (uint32_t source : value.children) {
          GF_RETURN_IF_ERROR(MergeFrom(source, depth, merge_key, out));
        }
      } else {
        GF_RETURN_IF_ERROR(MergeFrom(value_id, depth, merge_key, out));
      }
    }
    return OkStatus();
  }

  std::vector<Node>& nodes_;
  const YamlOptions& options_;
  int document_;
  std::size_t* produced_;
};

// Records each document's events as nodes and converts the document when it ends. After the
// first error it ignores everything; the caller stops at the end of that document.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(std::string_view text, const YamlOptions& options, std::vector<json>* documents)
      : text_(text), options_(options), documents_(documents) {
    // Marks count characters after a byte order mark; UTF-16/32 input is not checked.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") {
      text_.remove_prefix(3);
    } else if (text_.size() >= 2 &&
               (text_[0] == '\0' || text_[1] == '\0' || text_.substr(0, 2) == "\xFE\xFF" ||
                text_.substr(0, 2) == "\xFF\xFE")) {
      text_ = {};
    }
  }

  const Status& status() const { return status_; }
  int document() const { return document_; }

  void OnDocumentStart(const YAML::Mark&) override {
    ++document_;
    nodes_.clear();
    anchors_.clear();
    stack_.clear();
  }

  void OnDocumentEnd() override {
    if (!status_.ok() || nodes_.empty()) return;
    json value;
    Converter converter(nodes_, options_, document_, &produced_);
    status_ = converter.Convert(0, 0, &value);
    if (status_.ok() && !value.is_null()) documents_->push_back(std::move(value));
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Add(NodeKind::kNull, mark, anchor, "?", "");
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (!status_.ok()) return;
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return Fail(mark, "unknown alias");
    if (nodes_[it->second].open) {
      return Fail(mark, "recursive alias: it refers to a node that contains it");
    }
    uint32_t id = Add(NodeKind::kAlias, mark, YAML::NullAnchor, "", "");
    nodes_[id].target = it->second;
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    if (tag == "!" && !Terminated(mark)) return Fail(mark, "quoted scalar is not terminated");
    Add(NodeKind::kScalar, mark, anchor, tag, value);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Add(NodeKind::kSequence, mark, anchor, tag, ""));
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(Add(NodeKind::kMapping, mark, anchor, tag, ""));
  }
  void OnMapEnd() override { Close(); }

 private:
  // yaml-cpp 0.7 silently ends a quoted scalar that is never closed at the end of the input
  // (go-yaml rejects it). Checks that a scalar starting with a quote has its closing quote.
  bool Terminated(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<std::size_t>(mark.pos) >= text_.size()) return true;
    // text_ is the UTF-8 input, whose marks count bytes.
    char quote = text_[static_cast<std::size_t>(mark.pos)];
    if (quote != '"' && quote != '\'') return true;
    for (std::size_t i = static_cast<std::size_t>(mark.pos) + 1; i < text_.size(); ++i) {
      if (quote == '"' && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == quote) {
        if (quote == '"' || i + 1 == text_.size() || text_[i + 1] != '\'') return true;
        ++i;  // '' is an escaped quote inside single quotes.
      }
    }
    return false;
  }

  void Fail(const YAML::Mark& mark, std::string_view message) {
    status_ = InvalidArgumentError("yaml: document " + std::to_string(document_) + ", line " +
                                   std::to_string(mark.line + 1) + ":" +
                                   std::to_string(mark.column + 1) + ": " + std::string(message));
  }

  uint32_t Add(NodeKind kind, const YAML::Mark& mark, YAML::anchor_t anchor, const std::string& tag,
               const std::string& value) {
    if (!status_.ok()) return 0;
    auto id = static_cast<uint32_t>(nodes_.size());
    Node n;
    n.kind = kind;
    n.line = mark.line + 1;
    n.column = mark.column + 1;
    n.tag = tag;
    n.value = value;
    if (!stack_.empty()) {
      Node& parent = nodes_[stack_.back()];
      parent.children.push_back(id);
      n.shared = parent.shared;
    }
    if (anchor != YAML::NullAnchor) {
      anchors_[anchor] = id;
      n.shared = true;
    }
    nodes_.push_back(std::move(n));
    return id;
  }

  void Open(uint32_t id) {
    if (!status_.ok()) return;
    nodes_[id].open = true;
    stack_.push_back(id);
  }

  void Close() {
    if (!status_.ok() || stack_.empty()) return;
    nodes_[stack_.back()].open = false;
    stack_.pop_back();
  }

  std::string_view text_;  // The UTF-8 input without its byte order mark; empty if not UTF-8.
  const YamlOptions& options_;
  std::vector<json>* documents_;
  Status status_;
  int document_ = 0;
  std::size_t produced_ = 0;  // JSON values made so far, across documents.
  std::vector<Node> nodes_;
  std::map<YAML::anchor_t, uint32_t> anchors_;
  std::vector<uint32_t> stack_;  // Open collections.
};

std::string ParserMessage(const YAML::Exception& e) {
  if (e.mark.is_null()) return e.msg;
  return "line " + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
         ": " + e.msg;
}

}  // namespace

Result<std::vector<json>> YamlToJson(std::string_view text, const YamlOptions& options) {
  std::vector<json> documents;
  TreeBuilder builder(text, options, &documents);
  auto prefix = [&] { return "yaml: document " + std::to_string(std::max(1, builder.document())); };
  try {
    ViewBuf buf(text);
    std::istream in(&buf);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
      if (!builder.status().ok()) return builder.status();
    }
    if (!builder.status().ok()) return builder.status();
  } catch (const YAML::DeepRecursion& e) {
    return OutOfRangeError(prefix() + ", " + ParserMessage(e) +
                           " (nesting too deep for the parser)");
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(prefix() + ", " + ParserMessage(e));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError(prefix() + ": out of memory");
  } catch (const std::exception& e) {
    return InternalError(prefix() + ": " + e.what());
  }
  return documents;
}

Result<json> YamlToJsonSingle(std::string_view text, const YamlOptions& options) {
  GF_ASSIGN_OR_RETURN(std::vector<json> documents, YamlToJson(text, options));
  if (documents.size() != 1) {
    return InvalidArgumentError("yaml: expected exactly one document, found " +
                                std::to_string(documents.size()));
  }
  return std::move(documents[0]);
}

}  // namespace gpufleet::core
