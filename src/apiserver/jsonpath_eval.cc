// JsonPath evaluation: a port of client-go's jsonpath.go walk over decoded JSON. Each step maps the
// current values to new ones; on an error it returns what client-go returns alongside the error,
// because an exists-filter ([?(@.x)]) ignores the error and looks only at those values.
// Comparisons follow client-go's forked text/template eq/lt: integers compare with integers,
// floats with floats, strings with strings; any other pairing is an error.
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "apiserver/jsonpath_ast.h"

namespace gpufleet::apiserver::jsonpath_internal {
namespace {

using json = nlohmann::json;
using Values = std::vector<const json*>;

bool Fail(bool* err) {
  *err = true;
  return false;
}
Values Fail(bool* err, Values v) {
  *err = true;
  return v;
}

enum class Kind : uint8_t { kBool, kInt, kUint, kFloat, kString, kBad };

Kind BasicKind(const json& v) {
  switch (v.type()) {
    case json::value_t::boolean:
      return Kind::kBool;
    case json::value_t::number_integer:
      return Kind::kInt;
    case json::value_t::number_unsigned:
      // Kubernetes decodes every JSON integer as int64.
      return v.get<uint64_t>() <= uint64_t{std::numeric_limits<int64_t>::max()} ? Kind::kInt
                                                                                : Kind::kUint;
    case json::value_t::number_float:
      return Kind::kFloat;
    case json::value_t::string:
      return Kind::kString;
    default:
      return Kind::kBad;
  }
}

// -1, 0, 1 for an int/uint pair (Go compares them regardless of sign).
int CompareIntUint(int64_t a, uint64_t b) {
  if (a < 0) return -1;
  auto ua = static_cast<uint64_t>(a);
  return ua < b ? -1 : (ua == b ? 0 : 1);
}

bool Equal(const json& a, const json& b, bool* err) {
  Kind ka = BasicKind(a);
  Kind kb = BasicKind(b);
  if (ka == Kind::kBad || kb == Kind::kBad) return Fail(err);
  if (ka != kb) {
    if (ka == Kind::kInt && kb == Kind::kUint)
      return CompareIntUint(a.get<int64_t>(), b.get<uint64_t>()) == 0;
    if (ka == Kind::kUint && kb == Kind::kInt)
      return CompareIntUint(b.get<int64_t>(), a.get<uint64_t>()) == 0;
    return Fail(err);
  }
  switch (ka) {
    case Kind::kBool:
      return a.get<bool>() == b.get<bool>();
    case Kind::kInt:
      return a.get<int64_t>() == b.get<int64_t>();
    case Kind::kUint:
      return a.get<uint64_t>() == b.get<uint64_t>();
    case Kind::kFloat:
      return a.get<double>() == b.get<double>();
    case Kind::kString:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    case Kind::kBad:
      break;
  }
  return Fail(err);
}

bool Less(const json& a, const json& b, bool* err) {
  Kind ka = BasicKind(a);
  Kind kb = BasicKind(b);
  if (ka == Kind::kBad || kb == Kind::kBad) return Fail(err);
  if (ka != kb) {
    if (ka == Kind::kInt && kb == Kind::kUint)
      return CompareIntUint(a.get<int64_t>(), b.get<uint64_t>()) < 0;
    if (ka == Kind::kUint && kb == Kind::kInt)
      return CompareIntUint(b.get<int64_t>(), a.get<uint64_t>()) > 0;
    return Fail(err);
  }
  switch (ka) {
    case Kind::kInt:
      return a.get<int64_t>() < b.get<int64_t>();
    case Kind::kUint:
      return a.get<uint64_t>() < b.get<uint64_t>();
    case Kind::kFloat:
      return a.get<double>() < b.get<double>();
    case Kind::kString:
      return a.get_ref<const std::string&>() < b.get_ref<const std::string&>();
    case Kind::kBool:
    case Kind::kBad:
      break;
  }
  return Fail(err);
}

bool Compare(const json& a, const json& b, FilterOp op, bool* err) {
  switch (op) {
    case FilterOp::kEq:
      return Equal(a, b, err);
    case FilterOp::kNe:
      return !Equal(a, b, err);
    case FilterOp::kLt:
      return Less(a, b, err);
    case FilterOp::kLe: {
      bool lt = Less(a, b, err);
      return lt || *err ? lt : Equal(a, b, err);
    }
    case FilterOp::kGt: {
      bool lt = Less(a, b, err);
      bool le = lt || *err ? lt : Equal(a, b, err);
      return *err ? false : !le;
    }
    case FilterOp::kGe: {
      bool lt = Less(a, b, err);
      return *err ? false : !lt;
    }
    case FilterOp::kExists:
      break;
  }
  return Fail(err);
}

class Evaluator {
 public:
  // client-go's evalList. *err reports an evaluation error; the values returned with it are
  // client-go's (they matter only to exists-filters).
  Values List(const Values& in, const NodeList& list, bool* err) {
    Values cur = in;
    for (const Node& n : list) {
      cur = Walk(cur, n, err);
      if (*err) return cur;
    }
    return cur;
  }

  bool exhausted() const { return exhausted_; }

 private:
  // Charges one unit of work; false (and exhausted) past kMaxWork.
  bool Charge() {
    if (work_ >= kMaxWork) {
      exhausted_ = true;
      return false;
    }
    ++work_;
    return true;
  }
  bool Push(Values* out, const json* v, bool* err) {
    if (!Charge()) return Fail(err);
    out->push_back(v);
    return true;
  }

  Values Walk(const Values& in, const Node& n, bool* err) {
    switch (n.kind) {
      case NodeKind::kField:
        return Field(in, n, err);
      case NodeKind::kWildcard:
        return Wildcard(in, err);
      case NodeKind::kRecursive:
        return Recursive(in, err);
      case NodeKind::kArray:
        return Array(in, n, err);
      case NodeKind::kUnion:
        return Union(in, n, err);
      case NodeKind::kFilter:
        return Filter(in, n, err);
      case NodeKind::kLiteral:
        return Literal(in, n, err);
    }
    *err = true;
    return in;
  }

  Values Field(const Values& in, const Node& n, bool* err) {
    Values out;
    for (const json* v : in) {
      if (!v->is_object()) continue;  // null is skipped; other kinds have no fields
      auto it = v->find(n.name);
      if (it != v->end() && !Push(&out, &*it, err)) return out;
    }
    return out;
  }

  Values Wildcard(const Values& in, bool* err) {
    Values out;
    for (const json* v : in) {
      if (!v->is_object() && !v->is_array()) continue;
      for (const json& child : *v) {
        if (!Push(&out, &child, err)) return out;
      }
    }
    return out;
  }

  // Pre-order: every value with children (a non-empty object, array or string), then its
  // descendants. Iterative, so nesting depth cannot exhaust the stack.
  Values Recursive(const Values& in, bool* err) {
    Values out;
    std::vector<const json*> stack;
    for (const json* root : in) {
      stack.push_back(root);
      while (!stack.empty()) {
        const json* v = stack.back();
        stack.pop_back();
        if (!Charge()) return Fail(err, out);
        bool has_children =
            (v->is_object() || v->is_array() || v->is_string()) &&
            !(v->is_string() ? v->get_ref<const std::string&>().empty() : v->empty());
        if (!has_children) continue;
        if (!Push(&out, v, err)) return out;
        if (v->is_string()) continue;  // its "children" are bytes, which have none
        for (auto it = v->crbegin(); it != v->crend(); ++it) stack.push_back(&*it);
      }
    }
    return out;
  }

  Values Array(const Values& in, const Node& n, bool* err) {
    Values out;
    for (const json* v : in) {
      if (v->is_null()) continue;
      if (!v->is_array()) return Fail(err, in);
      const auto len = static_cast<int64_t>(v->size());
      int64_t first = n.slice[0].known ? n.slice[0].value : 0;
      if (first < 0) first += len;
      int64_t last = n.slice[1].known ? n.slice[1].value : len;
      if (last < 0 || (last == 0 && n.slice[1].derived)) last += len;
      if (last == first) return out;  // zero elements requested: client-go stops here
      if (first >= len || first < 0 || last > len || last < 0 || first > last) {
        return Fail(err, in);
      }
      int64_t step = 1;
      if (n.slice[2].known) {
        if (n.slice[2].value <= 0) return Fail(err, in);
        step = n.slice[2].value;
      }
      for (int64_t i = first; i < last;) {
        if (!Push(&out, &(*v)[static_cast<size_t>(i)], err)) return out;
        if (step >= last - i) break;
        i += step;
      }
    }
    return out;
  }

  Values Union(const Values& in, const Node& n, bool* err) {
    Values out;
    for (const NodeList& alt : n.lists) {
      Values part = List(in, alt, err);
      if (*err) return exhausted_ ? out : in;
      for (const json* v : part) {
        if (!Push(&out, v, err)) return out;
      }
    }
    return out;
  }

  Values Filter(const Values& in, const Node& n, bool* err) {
    Values out;
    for (const json* v : in) {
      if (!v->is_array()) return Fail(err, in);
      for (const json& item : *v) {
        const Values one = {&item};
        bool left_err = false;
        Values lefts = List(one, n.lists[0], &left_err);
        if (exhausted_) return Fail(err, out);
        if (n.op == FilterOp::kExists) {
          if (!lefts.empty() && !Push(&out, &item, err)) return out;
          continue;
        }
        if (left_err || lefts.size() > 1) return Fail(err, in);
        if (lefts.empty()) continue;
        bool right_err = false;
        Values rights = List(one, n.lists[1], &right_err);
        if (right_err || rights.size() > 1) return Fail(err, in);
        if (rights.empty()) continue;
        bool cmp_err = false;
        bool pass = Compare(*lefts[0], *rights[0], n.op, &cmp_err);
        if (cmp_err) return Fail(err, out);
        if (pass && !Push(&out, &item, err)) return out;
      }
    }
    return out;
  }

  Values Literal(const Values& in, const Node& n, bool* err) {
    Values out;
    if (!n.literal_per_input) {  // quoted text: exactly one value whatever the input
      Push(&out, &n.literal, err);
      return out;
    }
    for (size_t i = 0; i < in.size(); ++i) {
      if (!Push(&out, &n.literal, err)) return out;
    }
    return out;
  }

  size_t work_ = 0;
  bool exhausted_ = false;
};

}  // namespace

std::vector<const nlohmann::json*> EvaluateList(const NodeList& list, const nlohmann::json& doc) {
  Evaluator ev;
  bool err = false;
  Values out = ev.List({&doc}, list, &err);
  if (err || ev.exhausted()) return {};
  return out;
}

}  // namespace gpufleet::apiserver::jsonpath_internal
