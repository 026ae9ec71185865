// value.cpp: Cedar values (equality, the total order that keeps sets
// canonical, rendering), entity uids and diagnostics.
#include <algorithm>
#include <functional>
#include <string>

#include "idra/policy.hpp"
#include "policy/extensions.hpp"

namespace idra::policy {
namespace {

// append_cedar_string renders |s| as a Cedar string literal, escaping the
// way Cedar's own Display does (Rust's escape_debug) for what matters to a
// reader: quotes, backslashes and control characters.
void append_cedar_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\'':
        out += "\\'";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
          out += "\\u{";
          if (u >= 0x10) out += kHex[u >> 4];
          out += kHex[u & 0xf];
          out += '}';
        } else {
          out += c;
        }
      }
    }
  }
  out += '"';
}

void append_cedar(std::string& out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, std::string>) {
          append_cedar_string(out, x);
        } else if constexpr (std::is_same_v<T, EntityUid>) {
          out += x.str();
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const SetValue>>) {
          out += '[';
          for (std::size_t i = 0; i < x->size(); ++i) {
            if (i > 0) out += ", ";
            append_cedar(out, (*x)[i]);
          }
          out += ']';
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const RecordValue>>) {
          out += '{';
          bool first = true;
          for (const auto& [key, value] : *x) {
            if (!first) out += ", ";
            first = false;
            append_cedar_string(out, key);
            out += ": ";
            append_cedar(out, value);
          }
          out += '}';
        } else if constexpr (std::is_same_v<T, IpAddr>) {
          out += "ip(";
          append_cedar_string(out, ext::ip_str(x));
          out += ')';
        } else {
          out += "decimal(";
          append_cedar_string(out, ext::decimal_str(x));
          out += ')';
        }
      },
      v.storage());
}

}  // namespace

std::string Diagnostic::str() const {
  std::string out = file;
  if (line > 0) {
    if (!out.empty()) out += ':';
    out += std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  if (!out.empty()) out += ": ";
  out += message;
  return out;
}

std::string EntityUid::str() const {
  std::string out = type;
  out += "::";
  append_cedar_string(out, id);
  return out;
}

std::size_t EntityUidHash::operator()(const EntityUid& uid) const noexcept {
  const std::size_t h = std::hash<std::string>{}(uid.type);
  return h ^ (std::hash<std::string>{}(uid.id) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

Value Value::set(SetValue elements) {
  std::sort(elements.begin(), elements.end());
  elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
  Value out;
  out.v_ = std::make_shared<const SetValue>(std::move(elements));
  return out;
}

Value Value::record(RecordValue fields) {
  Value out;
  out.v_ = std::make_shared<const RecordValue>(std::move(fields));
  return out;
}

std::string_view Value::type_name() const {
  static constexpr std::string_view kNames[] = {"bool", "long",   "string", "entity",
                                                "set",  "record", "ipaddr", "decimal"};
  return kNames[v_.index()];
}

bool operator==(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return false;
  if (a.is_set()) {
    const auto& x = std::get<std::shared_ptr<const SetValue>>(a.v_);
    const auto& y = std::get<std::shared_ptr<const SetValue>>(b.v_);
    return x == y || *x == *y;
  }
  if (a.is_record()) {
    const auto& x = std::get<std::shared_ptr<const RecordValue>>(a.v_);
    const auto& y = std::get<std::shared_ptr<const RecordValue>>(b.v_);
    return x == y || *x == *y;
  }
  return a.v_ == b.v_;
}

std::strong_ordering operator<=>(const Value& a, const Value& b) {
  if (a.v_.index() != b.v_.index()) return a.v_.index() <=> b.v_.index();
  if (a.is_set()) {
    const SetValue& x = a.as_set();
    const SetValue& y = b.as_set();
    return std::lexicographical_compare_three_way(x.begin(), x.end(), y.begin(), y.end());
  }
  if (a.is_record()) {
    const RecordValue& x = a.as_record();
    const RecordValue& y = b.as_record();
    auto i = x.begin();
    auto j = y.begin();
    for (; i != x.end() && j != y.end(); ++i, ++j) {
      if (auto c = i->first <=> j->first; c != 0) return c;
      if (auto c = i->second <=> j->second; c != 0) return c;
    }
    return (i == x.end() ? 0 : 1) <=> (j == y.end() ? 0 : 1);
  }
  return std::visit(
      [&](const auto& x) -> std::strong_ordering {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b.v_);
        if constexpr (std::is_same_v<T, std::shared_ptr<const SetValue>> ||
                      std::is_same_v<T, std::shared_ptr<const RecordValue>>) {
          return std::strong_ordering::equal;  // handled above
        } else {
          return x <=> y;
        }
      },
      a.v_);
}

std::string to_cedar(const Value& v) {
  std::string out;
  append_cedar(out, v);
  return out;
}

}  // namespace idra::policy
