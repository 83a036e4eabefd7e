// JsonPath parsing: a port of k8s.io/client-go/util/jsonpath/parser.go restricted to one action.
// The parser is iterative within an action; it recurses only into union alternatives, bracket
// keys and filter operands, and that recursion is bounded by kMaxNesting.
#include "apiserver/jsonpath.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "apiserver/jsonpath_ast.h"

namespace gpufleet::apiserver {
namespace {

using jsonpath_internal::FilterOp;
using jsonpath_internal::kMaxNesting;
using jsonpath_internal::Node;
using jsonpath_internal::NodeKind;
using jsonpath_internal::NodeList;
using jsonpath_internal::SliceParam;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsTerminator(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\r':
    case '\n':
    case '.':
    case ',':
    case '[':
    case ']':
    case '$':
    case '@':
    case '{':
    case '}':
      return true;
    default:
      return false;
  }
}
// client-go: '_' or a Unicode letter or digit. Every non-ASCII byte counts as a letter here.
bool IsAlphaNumeric(char c) {
  auto u = static_cast<unsigned char>(c);
  return c == '_' || IsDigit(c) || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z') || u >= 0x80;
}
bool IsFilterOpChar(char c) { return c == '!' || c == '<' || c == '>' || c == '='; }

// Go's %#U for an ASCII byte: "U+0023 '#'".
std::string DescribeChar(char c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto u = static_cast<unsigned char>(c);
  std::string s = "U+00";
  s += kHex[u >> 4];
  s += kHex[u & 0xF];
  if (u >= 0x20 && u < 0x7F) s += std::string(" '") + c + "'";
  return s;
}

// Go's strconv.Atoi: optional sign, decimal digits, int64 range.
bool ParseInt(std::string_view s, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  if (v > kMax + (neg ? 1 : 0)) return false;
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool ParseFloat(std::string_view s, double* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s[0] == '+') return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

void AppendRune(uint32_t r, std::string* out) {
  if (r < 0x80) {
    *out += static_cast<char>(r);
  } else if (r < 0x800) {
    *out += static_cast<char>(0xC0 | (r >> 6));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    *out += static_cast<char>(0xE0 | (r >> 12));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (r >> 18));
    *out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// client-go's UnquoteExtend: strconv.Unquote that also accepts single-quoted strings of any
// length. `quoted` includes both quotes.
bool Unquote(std::string_view quoted, std::string* out) {
  const char quote = quoted.front();
  std::string_view s = quoted.substr(1, quoted.size() - 2);
  out->clear();
  while (!s.empty()) {
    char c = s[0];
    if (c == quote) return false;
    if (c != '\\') {
      *out += c;  // raw bytes, UTF-8 included, are copied as they are
      s.remove_prefix(1);
      continue;
    }
    if (s.size() < 2) return false;
    c = s[1];
    s.remove_prefix(2);
    switch (c) {
      case 'a':
        *out += '\a';
        break;
      case 'b':
        *out += '\b';
        break;
      case 'f':
        *out += '\f';
        break;
      case 'n':
        *out += '\n';
        break;
      case 'r':
        *out += '\r';
        break;
      case 't':
        *out += '\t';
        break;
      case 'v':
        *out += '\v';
        break;
      case '\\':
        *out += '\\';
        break;
      case '\'':
      case '"':
        if (c != quote) return false;
        *out += c;
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
        if (s.size() < n) return false;
        uint32_t v = 0;
        for (size_t i = 0; i < n; ++i) {
          int h = HexValue(s[i]);
          if (h < 0) return false;
          v = (v << 4) | static_cast<uint32_t>(h);
        }
        s.remove_prefix(n);
        if (c == 'x') {
          *out += static_cast<char>(v);
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
          AppendRune(v, out);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (s.size() < 2) return false;
        uint32_t v = static_cast<uint32_t>(c - '0');
        for (int i = 0; i < 2; ++i) {
          if (s[i] < '0' || s[i] > '7') return false;
          v = (v << 3) | static_cast<uint32_t>(s[i] - '0');
        }
        if (v > 255) return false;
        s.remove_prefix(2);
        *out += static_cast<char>(v);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view full) : full_(full) {}

  // Long expressions are shortened to their first 200 bytes in the message.
  Status Error(size_t pos, std::string_view why) const {
    std::string shown(full_.substr(0, 200));
    if (full_.size() > 200) shown += "...";
    return InvalidArgumentError("jsonpath \"" + shown + "\": " + std::string(why) + " at offset " +
                                std::to_string(pos));
  }

  // Parses full_[i, end) as the inside of one action, appending to *out. With stop_at_brace, a
  // '}' ends the action and *stop is its offset; otherwise *stop is `end`. With leading_field the
  // text starts with a field name (a bracket key, which client-go parses as "." + key).
  Status ParseList(size_t i, size_t end, int depth, bool in_filter, bool stop_at_brace,
                   bool leading_field, NodeList* out, size_t* stop) {
    if (depth > kMaxNesting) return Error(i, "nesting deeper than 32 levels");
    if (leading_field) i = ParseField(i, end, out);
    while (i < end) {
      const char c = full_[i];
      std::string_view rest = full_.substr(i, end - i);
      if (c == '}') {
        if (!stop_at_brace) return Error(i, "unexpected '}'");
        *stop = i;
        return OkStatus();
      }
      if (rest.substr(0, 3) == "[?(") {
        GF_RETURN_IF_ERROR(ParseFilter(i, end, depth, out, &i));
        continue;
      }
      if (rest.substr(0, 2) == "..") {
        if (!out->empty() && out->back().kind == NodeKind::kRecursive) {
          return Error(i, "invalid multiple recursive descent");
        }
        out->push_back(Node{.kind = NodeKind::kRecursive});
        i += 2;
        if (i < end && IsAlphaNumeric(full_[i])) i = ParseField(i, end, out);
        continue;
      }
      if (c == '\r' || c == '\n') return Error(i, "unclosed action");
      if (c == ' ' || c == '@' || c == '$') {
        ++i;
      } else if (c == '[') {
        GF_RETURN_IF_ERROR(ParseArray(i, end, depth, in_filter, out, &i));
      } else if (c == '.') {
        i = ParseField(i + 1, end, out);
      } else if (c == '"' || c == '\'') {
        GF_RETURN_IF_ERROR(ParseQuote(i, end, in_filter, out, &i));
      } else if (c == '+' || c == '-' || IsDigit(c)) {
        GF_RETURN_IF_ERROR(ParseNumber(i, end, in_filter, out, &i));
      } else if (IsAlphaNumeric(c)) {
        GF_RETURN_IF_ERROR(ParseIdentifier(i, end, in_filter, out, &i));
      } else {
        return Error(i, "unrecognized character in action: " + DescribeChar(c));
      }
    }
    *stop = end;
    return OkStatus();
  }

 private:
  // A field name runs to the next unescaped terminator; every backslash is then dropped.
  size_t ParseField(size_t i, size_t end, NodeList* out) {
    const size_t start = i;
    while (i < end) {
      if (full_[i] == '\\') {
        i += 2;
      } else if (IsTerminator(full_[i])) {
        break;
      } else {
        ++i;
      }
    }
    i = std::min(i, end);
    std::string_view raw = full_.substr(start, i - start);
    if (raw == "*") {
      out->push_back(Node{.kind = NodeKind::kWildcard});
      return i;
    }
    Node n{.kind = NodeKind::kField};
    for (char c : raw) {
      if (c != '\\') n.name += c;
    }
    out->push_back(std::move(n));
    return i;
  }

  Status Literal(size_t pos, bool in_filter, nlohmann::json value, bool per_input, NodeList* out) {
    if (!in_filter) return Error(pos, "a literal is only supported inside a filter");
    out->push_back(Node{
        .kind = NodeKind::kLiteral, .literal = std::move(value), .literal_per_input = per_input});
    return OkStatus();
  }

  Status ParseQuote(size_t i, size_t end, bool in_filter, NodeList* out, size_t* next) {
    const char quote = full_[i];
    size_t j = i + 1;
    while (true) {
      if (j >= end || full_[j] == '\n') return Error(i, "unterminated quoted string");
      if (full_[j] == quote && full_[j - 1] != '\\') break;
      ++j;
    }
    std::string_view raw = full_.substr(i, j + 1 - i);
    std::string text;
    if (!Unquote(raw, &text)) {
      return Error(i, "unquote string " + std::string(raw) + " error invalid syntax");
    }
    *next = j + 1;
    return Literal(i, in_filter, nlohmann::json(std::move(text)), false, out);
  }

  Status ParseNumber(size_t i, size_t end, bool in_filter, NodeList* out, size_t* next) {
    size_t j = i;
    if (full_[j] == '+' || full_[j] == '-') ++j;
    while (j < end && (IsDigit(full_[j]) || full_[j] == '.')) ++j;
    std::string_view text = full_.substr(i, j - i);
    *next = j;
    int64_t iv = 0;
    if (ParseInt(text, &iv)) return Literal(i, in_filter, nlohmann::json(iv), true, out);
    double dv = 0;
    if (ParseFloat(text, &dv)) return Literal(i, in_filter, nlohmann::json(dv), true, out);
    return Error(i, "cannot parse number " + std::string(text));
  }

  Status ParseIdentifier(size_t i, size_t end, bool in_filter, NodeList* out, size_t* next) {
    size_t j = i;
    while (j < end && !IsTerminator(full_[j])) ++j;
    std::string_view word = full_.substr(i, j - i);
    *next = j;
    if (word == "true" || word == "false") {
      return Literal(i, in_filter, nlohmann::json(word == "true"), true, out);
    }
    if (word == "range" || word == "end") return Error(i, "range/end is not supported");
    return Error(i, "unrecognized identifier " + std::string(word));
  }

  // '[' ... ']': a union of alternatives, a bracket key, or an index/slice.
  Status ParseArray(size_t i, size_t end, int depth, bool in_filter, NodeList* out, size_t* next) {
    size_t close = i + 1;
    while (close < end && full_[close] != ']' && full_[close] != '\n') ++close;
    if (close >= end || full_[close] != ']') return Error(i, "unterminated array");
    *next = close + 1;
    const size_t b = i + 1;
    if (full_.substr(b, close - b).find(',') == std::string_view::npos) {
      return ParseBracket(b, close, depth, in_filter, out);
    }
    Node u{.kind = NodeKind::kUnion};
    size_t start = b;
    while (true) {
      size_t comma = start;
      while (comma < close && full_[comma] != ',') ++comma;
      size_t s = start;
      size_t e = comma;
      while (s < e && full_[s] == ' ') ++s;
      while (e > s && full_[e - 1] == ' ') --e;
      NodeList alt;
      GF_RETURN_IF_ERROR(ParseBracket(s, e, depth + 1, in_filter, &alt));
      u.lists.push_back(std::move(alt));
      if (comma >= close) break;
      start = comma + 1;
    }
    out->push_back(std::move(u));
    return OkStatus();
  }

  // The inside of one bracket, full_[b, e): 'key' (or "key"), or client-go's slice syntax
  // ^(-?\d*)(:-?\d*)?(:-?\d*)?$ with "*" meaning ":".
  Status ParseBracket(size_t b, size_t e, int depth, bool in_filter, NodeList* out) {
    if (depth > kMaxNesting) return Error(b, "nesting deeper than 32 levels");
    std::string_view text = full_.substr(b, e - b);
    if (text.size() >= 2 && (text[0] == '\'' || text[0] == '"') && text.back() == text[0] &&
        text.substr(1, text.size() - 2).find(text[0]) == std::string_view::npos) {
      size_t stop = 0;
      return ParseList(b + 1, e - 1, depth + 1, in_filter, false, true, out, &stop);
    }
    if (text == "*") text = ":";
    // Split into up to three groups at ':'; each must be -?\d*.
    std::string_view groups[3];
    bool present[3] = {true, false, false};
    size_t g = 0;
    size_t start = 0;
    for (size_t k = 0; k <= text.size(); ++k) {
      if (k == text.size() || text[k] == ':') {
        groups[g] = text.substr(start, k - start);
        if (k == text.size()) break;
        if (++g == 3) return Error(b, "invalid array index " + std::string(text));
        present[g] = true;
        start = k + 1;
      }
    }
    for (size_t k = 0; k < 3; ++k) {
      std::string_view s = groups[k];
      if (!s.empty() && s[0] == '-') s.remove_prefix(1);
      for (char c : s) {
        if (!IsDigit(c)) return Error(b, "invalid array index " + std::string(text));
      }
    }
    Node n{.kind = NodeKind::kArray};
    for (size_t k = 0; k < 3; ++k) {
      SliceParam& p = n.slice[k];
      if (present[k] && !groups[k].empty()) {
        if (!ParseInt(groups[k], &p.value)) {
          return Error(b, "array index " + std::string(groups[k]) + " is not a number");
        }
        p.known = true;
      } else if (k == 1 && !present[1]) {
        // [i] is [i:i+1]; Go's int addition wraps.
        p.known = true;
        p.derived = true;
        int64_t start_value = n.slice[0].value;
        p.value = start_value == std::numeric_limits<int64_t>::max()
                      ? std::numeric_limits<int64_t>::min()
                      : start_value + 1;
      }
    }
    out->push_back(std::move(n));
    return OkStatus();
  }

  // "[?(" ... ")]": quotes may hide ')' (client-go pairs the first quote with its closing twin).
  Status ParseFilter(size_t i, size_t end, int depth, NodeList* out, size_t* next) {
    size_t j = i + 3;
    bool begin = false;
    bool finished = false;
    char pair = 0;
    while (true) {
      if (j >= end || full_[j] == '\n') return Error(i, "unterminated filter");
      const char c = full_[j];
      if (c == '"' || c == '\'') {
        if (!begin) {
          begin = true;
          pair = c;
        } else if (full_[j - 1] != '\\' && c == pair) {
          finished = true;
        }
      } else if (c == ')' && begin == finished) {
        break;
      }
      ++j;
    }
    if (j + 1 >= end || full_[j + 1] != ']') return Error(j + 1, "unclosed array expect ]");
    *next = j + 2;
    const size_t b = i + 3;
    const size_t e = j;
    // client-go splits with ^([^!<>=]+)([!<>=]+)(.+?)$.
    size_t op_begin = b;
    while (op_begin < e && !IsFilterOpChar(full_[op_begin])) ++op_begin;
    Node f{.kind = NodeKind::kFilter};
    size_t stop = 0;
    if (op_begin == e || op_begin == b) {
      NodeList left;
      GF_RETURN_IF_ERROR(ParseList(b, e, depth + 1, true, false, false, &left, &stop));
      f.lists.push_back(std::move(left));
      out->push_back(std::move(f));
      return OkStatus();
    }
    size_t op_end = op_begin;
    while (op_end < e && IsFilterOpChar(full_[op_end])) ++op_end;
    if (op_end == e) return Error(op_begin, "missing right operand in filter");
    std::string_view op = full_.substr(op_begin, op_end - op_begin);
    if (op == "==") {
      f.op = FilterOp::kEq;
    } else if (op == "!=") {
      f.op = FilterOp::kNe;
    } else if (op == "<") {
      f.op = FilterOp::kLt;
    } else if (op == "<=") {
      f.op = FilterOp::kLe;
    } else if (op == ">") {
      f.op = FilterOp::kGt;
    } else if (op == ">=") {
      f.op = FilterOp::kGe;
    } else {
      return Error(op_begin, "unrecognized filter operator " + std::string(op));
    }
    NodeList left;
    NodeList right;
    GF_RETURN_IF_ERROR(ParseList(b, op_begin, depth + 1, true, false, false, &left, &stop));
    GF_RETURN_IF_ERROR(ParseList(op_end, e, depth + 1, true, false, false, &right, &stop));
    f.lists.push_back(std::move(left));
    f.lists.push_back(std::move(right));
    out->push_back(std::move(f));
    return OkStatus();
  }

  std::string_view full_;
};

}  // namespace

Result<JsonPath> JsonPath::Parse(std::string_view expression) {
  Parser parser(expression);
  auto root = std::make_shared<NodeList>();
  size_t stop = 0;
  const size_t size = expression.size();
  if (!expression.empty() && expression[0] == '{') {
    GF_RETURN_IF_ERROR(parser.ParseList(1, size, 0, false, true, false, root.get(), &stop));
    if (stop >= size) return parser.Error(size, "unclosed action");
    if (stop + 1 != size) {
      return parser.Error(stop + 1, "text after the closing '}' is not supported");
    }
  } else {
    GF_RETURN_IF_ERROR(parser.ParseList(0, size, 0, false, false, false, root.get(), &stop));
  }
  return JsonPath(std::string(expression), std::move(root));
}

std::vector<const nlohmann::json*> JsonPath::Evaluate(const nlohmann::json& doc) const {
  if (root_ == nullptr) return {};
  return jsonpath_internal::EvaluateList(*root_, doc);
}

}  // namespace gpufleet::apiserver
