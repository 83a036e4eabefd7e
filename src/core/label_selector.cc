#include "core/label_selector.h"

#include <algorithm>
#include <string>

#include "core/node_selector_requirement.h"

namespace gpufleet::core {
namespace {

// --- lexer: Kubernetes' labels.Lexer token classes -------------------------------------------

enum class Tok {
  kIdentifier, kDoesNotExist, kEquals, kDoubleEquals, kNotEquals, kGreaterThan, kLessThan,
  kIn, kNotIn, kOpenPar, kClosedPar, kComma, kEnd, kError,
};

struct Token {
  Tok tok;
  std::string_view lit;
  size_t pos;
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  // `keywords`: whether "in"/"notin" are operators (after a key) or plain identifiers (values).
  Token Next(bool keywords) {
    while (pos_ < s_.size() && IsWhitespace(s_[pos_])) ++pos_;
    size_t start = pos_;
    if (pos_ >= s_.size()) return {Tok::kEnd, "end of string", start};
    char c = s_[pos_];
    if (IsSpecial(c)) {
      char next = pos_ + 1 < s_.size() ? s_[pos_ + 1] : '\0';
      if (c == '!' && next == '=') return Take(Tok::kNotEquals, 2);
      if (c == '=' && next == '=') return Take(Tok::kDoubleEquals, 2);
      switch (c) {
        case '!': return Take(Tok::kDoesNotExist, 1);
        case '=': return Take(Tok::kEquals, 1);
        case '(': return Take(Tok::kOpenPar, 1);
        case ')': return Take(Tok::kClosedPar, 1);
        case ',': return Take(Tok::kComma, 1);
        case '>': return Take(Tok::kGreaterThan, 1);
        default: return Take(Tok::kLessThan, 1);
      }
    }
    while (pos_ < s_.size() && !IsWhitespace(s_[pos_]) && !IsSpecial(s_[pos_])) ++pos_;
    std::string_view lit = s_.substr(start, pos_ - start);
    if (keywords && lit == "in") return {Tok::kIn, lit, start};
    if (keywords && lit == "notin") return {Tok::kNotIn, lit, start};
    return {Tok::kIdentifier, lit, start};
  }

  Token Peek(bool keywords) {
    size_t saved = pos_;
    Token t = Next(keywords);
    pos_ = saved;
    return t;
  }

 private:
  Token Take(Tok tok, size_t n) {
    Token t{tok, s_.substr(pos_, n), pos_};
    pos_ += n;
    return t;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// --- parser ------------------------------------------------------------------------------------

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lex_(text) {}

  Result<std::vector<SelectorRequirement>> Parse() {
    std::vector<SelectorRequirement> out;
    while (true) {
      Token t = lex_.Peek(false);
      if (t.tok == Tok::kEnd) return out;
      if (t.tok != Tok::kIdentifier && t.tok != Tok::kDoesNotExist) {
        return Error(t, "!, identifier, or 'end of string'");
      }
      GF_ASSIGN_OR_RETURN(SelectorRequirement r, ParseRequirement());
      out.push_back(std::move(r));
      Token sep = lex_.Next(false);
      if (sep.tok == Tok::kEnd) return out;
      if (sep.tok != Tok::kComma) return Error(sep, "',' or 'end of string'");
      Token after = lex_.Peek(false);
      if (after.tok != Tok::kIdentifier && after.tok != Tok::kDoesNotExist) {
        return Error(after, "identifier after ','");
      }
    }
  }

 private:
  Status Error(const Token& t, std::string_view expected) const {
    return InvalidArgumentError("label selector \"" + std::string(text_) + "\": found '" +
                                std::string(t.lit) + "' at position " + std::to_string(t.pos) +
                                ", expected: " + std::string(expected));
  }
  Status Invalid(const std::string& why) const {
    return InvalidArgumentError("label selector \"" + std::string(text_) + "\": " + why);
  }

  Result<SelectorRequirement> ParseRequirement() {
    SelectorRequirement r;
    Token t = lex_.Next(false);
    bool negated = false;
    if (t.tok == Tok::kDoesNotExist) {
      negated = true;
      t = lex_.Next(false);
    }
    if (t.tok != Tok::kIdentifier) return Error(t, "identifier");
    r.key = std::string(t.lit);
    if (std::string why = LabelKeyError(r.key); !why.empty()) {
      return Invalid("invalid label key \"" + r.key + "\": " + why);
    }
    Token next = lex_.Peek(true);
    if (negated || next.tok == Tok::kEnd || next.tok == Tok::kComma) {
      r.op = negated ? SelectorOp::kDoesNotExist : SelectorOp::kExists;
      return r;
    }
    Token op = lex_.Next(true);
    switch (op.tok) {
      case Tok::kIn: r.op = SelectorOp::kIn; break;
      case Tok::kNotIn: r.op = SelectorOp::kNotIn; break;
      case Tok::kEquals: r.op = SelectorOp::kEquals; break;
      case Tok::kDoubleEquals: r.op = SelectorOp::kDoubleEquals; break;
      case Tok::kNotEquals: r.op = SelectorOp::kNotEquals; break;
      case Tok::kGreaterThan: r.op = SelectorOp::kGreaterThan; break;
      case Tok::kLessThan: r.op = SelectorOp::kLessThan; break;
      default: return Error(op, "[!=, ==, =, >, <, in, notin]");
    }
    if (r.op == SelectorOp::kIn || r.op == SelectorOp::kNotIn) {
      GF_ASSIGN_OR_RETURN(r.values, ParseSet());
    } else {
      GF_ASSIGN_OR_RETURN(std::string v, ParseExactValue());
      r.values.push_back(std::move(v));
    }
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    GF_RETURN_IF_ERROR(ValidateValues(r));
    return r;
  }

  Result<std::string> ParseExactValue() {
    Token t = lex_.Peek(false);
    if (t.tok == Tok::kEnd || t.tok == Tok::kComma) return std::string();
    t = lex_.Next(false);
    if (t.tok != Tok::kIdentifier) return Error(t, "identifier");
    return std::string(t.lit);
  }

  // "(" [value] {"," [value]} ")"; empty entries are the empty value, as in Kubernetes.
  Result<std::vector<std::string>> ParseSet() {
    Token open = lex_.Next(false);
    if (open.tok != Tok::kOpenPar) return Error(open, "'('");
    std::vector<std::string> values;
    Token t = lex_.Peek(false);
    if (t.tok == Tok::kClosedPar) {
      lex_.Next(false);
      return values;
    }
    bool expect_value = true;
    while (true) {
      t = lex_.Next(false);
      if (t.tok == Tok::kIdentifier && expect_value) {
        values.emplace_back(t.lit);
        expect_value = false;
      } else if (t.tok == Tok::kComma) {
        if (expect_value) values.emplace_back();  // "(,"  or ",,"
        expect_value = true;
      } else if (t.tok == Tok::kClosedPar) {
        if (expect_value) values.emplace_back();  // ",)"
        return values;
      } else {
        return Error(t, expect_value ? "',', ')' or identifier" : "',' or ')'");
      }
    }
  }

  Status ValidateValues(const SelectorRequirement& r) const {
    switch (r.op) {
      case SelectorOp::kIn:
      case SelectorOp::kNotIn:
        if (r.values.empty()) {
          return Invalid("for 'in', 'notin' operators, values set can't be empty (key \"" + r.key +
                         "\")");
        }
        break;
      case SelectorOp::kGreaterThan:
      case SelectorOp::kLessThan:
        if (!ParseInt64(r.values[0])) {
          return Invalid("for 'Gt', 'Lt' operators, the value must be an integer (key \"" + r.key +
                         "\", value \"" + r.values[0] + "\")");
        }
        return OkStatus();
      default:
        break;
    }
    for (const auto& v : r.values) {
      if (std::string why = LabelValueError(v); !why.empty()) {
        return Invalid("invalid label value \"" + v + "\" for key \"" + r.key + "\": " + why);
      }
    }
    return OkStatus();
  }

  std::string_view text_;
  Lexer lex_;
};

std::string_view OpText(SelectorOp op) {
  switch (op) {
    case SelectorOp::kEquals: return "=";
    case SelectorOp::kDoubleEquals: return "==";
    case SelectorOp::kNotEquals: return "!=";
    case SelectorOp::kIn: return " in ";
    case SelectorOp::kNotIn: return " notin ";
    case SelectorOp::kGreaterThan: return ">";
    case SelectorOp::kLessThan: return "<";
    default: return "";
  }
}

}  // namespace

bool SelectorRequirement::Matches(const Labels& labels) const {
  auto it = labels.find(key);
  const bool present = it != labels.end();
  auto listed = [&] { return std::binary_search(values.begin(), values.end(), it->second); };
  switch (op) {
    case SelectorOp::kEquals:
    case SelectorOp::kDoubleEquals:
    case SelectorOp::kIn:
      return present && listed();
    case SelectorOp::kNotEquals:
    case SelectorOp::kNotIn:
      return !present || !listed();
    case SelectorOp::kExists:
      return present;
    case SelectorOp::kDoesNotExist:
      return !present;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan: {
      if (!present || values.size() != 1) return false;
      auto label = ParseInt64(it->second);
      auto bound = ParseInt64(values[0]);
      if (!label || !bound) return false;
      return op == SelectorOp::kGreaterThan ? *label > *bound : *label < *bound;
    }
  }
  return false;
}

std::string SelectorRequirement::ToString() const {
  if (op == SelectorOp::kDoesNotExist) return "!" + key;
  if (op == SelectorOp::kExists) return key;
  std::string s = key + std::string(OpText(op));
  if (op == SelectorOp::kIn || op == SelectorOp::kNotIn) {
    // A set holding only the empty value prints as "(,)": "()" would not parse back (the
    // upstream printer has that bug; found by fuzzing).
    if (values.size() == 1 && values[0].empty()) return s + "(,)";
    s += "(";
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) s += ",";
      s += values[i];
    }
    return s + ")";
  }
  return s + (values.empty() ? "" : values[0]);
}

void LabelSelector::Sort() {
  std::stable_sort(requirements_.begin(), requirements_.end(),
                   [](const auto& a, const auto& b) { return a.key < b.key; });
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector s(false);
  GF_ASSIGN_OR_RETURN(s.requirements_, Parser(text).Parse());
  s.Sort();
  return s;
}

Result<LabelSelector> LabelSelector::FromJson(const nlohmann::json& j, std::string_view path) {
  std::string p(path);
  if (j.is_null()) return Nothing();
  if (!j.is_object()) return InvalidArgumentError(p + ": expected an object");
  LabelSelector s(false);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const auto& v = it.value();
    if (it.key() == "matchLabels") {
      if (v.is_null()) continue;
      if (!v.is_object()) return InvalidArgumentError(p + ".matchLabels: expected an object");
      for (auto l = v.begin(); l != v.end(); ++l) {
        std::string lp = p + ".matchLabels";
        GF_RETURN_IF_ERROR(ValidateLabelKey(l.key(), lp));
        if (!l.value().is_string()) {
          return InvalidArgumentError(lp + "[" + l.key() + "]: expected a string");
        }
        std::string value = l.value().get<std::string>();
        GF_RETURN_IF_ERROR(ValidateLabelValue(value, lp + "[" + l.key() + "]"));
        s.requirements_.push_back({l.key(), SelectorOp::kEquals, {value}});
      }
    } else if (it.key() == "matchExpressions") {
      if (v.is_null()) continue;
      if (!v.is_array()) return InvalidArgumentError(p + ".matchExpressions: expected a list");
      for (size_t i = 0; i < v.size(); ++i) {
        std::string ep = p + ".matchExpressions[" + std::to_string(i) + "]";
        GF_ASSIGN_OR_RETURN(NodeSelectorRequirement wire, ParseNodeSelectorRequirement(v[i], ep));
        if (wire.min_values) return InvalidArgumentError(ep + ": unknown field \"minValues\"");
        SelectorRequirement r{wire.key, SelectorOp::kIn, wire.values};
        switch (wire.op) {
          case Operator::kIn: r.op = SelectorOp::kIn; break;
          case Operator::kNotIn: r.op = SelectorOp::kNotIn; break;
          case Operator::kExists: r.op = SelectorOp::kExists; break;
          case Operator::kDoesNotExist: r.op = SelectorOp::kDoesNotExist; break;
          default:
            return InvalidArgumentError(ep + ".operator: \"" + std::string(OperatorName(wire.op)) +
                                        "\" is not a valid label selector operator");
        }
        GF_RETURN_IF_ERROR(ValidateLabelKey(r.key, ep + ".key"));
        bool needs_values = r.op == SelectorOp::kIn || r.op == SelectorOp::kNotIn;
        if (needs_values && r.values.empty()) {
          return InvalidArgumentError(ep + ".values: must be specified when `operator` is 'In' "
                                           "or 'NotIn'");
        }
        if (!needs_values && !r.values.empty()) {
          return InvalidArgumentError(ep + ".values: may not be specified when `operator` is "
                                           "'Exists' or 'DoesNotExist'");
        }
        for (const auto& value : r.values) {
          GF_RETURN_IF_ERROR(ValidateLabelValue(value, ep + ".values"));
        }
        std::sort(r.values.begin(), r.values.end());
        r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
        s.requirements_.push_back(std::move(r));
      }
    } else {
      return InvalidArgumentError(p + ": unknown field \"" + it.key() + "\"");
    }
  }
  s.Sort();
  return s;
}

bool LabelSelector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  for (const auto& r : requirements_) {
    if (!r.Matches(labels)) return false;
  }
  return true;
}

std::string LabelSelector::ToString() const {
  if (nothing_) return "<none>";
  std::string out;
  for (const auto& r : requirements_) {
    if (!out.empty()) out += ",";
    out += r.ToString();
  }
  return out;
}

}  // namespace gpufleet::core
