#include "remotecode/kube/selector.h"

#include <algorithm>
#include <cctype>

namespace rc::kube {
namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_terms(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!trim(cur).empty() || !out.empty()) out.push_back(trim(cur));
  return out;
}

bool valid_key(const std::string& k) {
  if (k.empty() || k.size() > 317) return false;
  return std::all_of(k.begin(), k.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

bool valid_value(const std::string& v) {
  if (v.size() > 63) return false;
  return std::all_of(v.begin(), v.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

LabelSelector LabelSelector::parse(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& term : split_terms(text)) {
    if (term.empty()) throw SelectorError("found ',', expected: identifier");
    Requirement r;
    auto set_key = [&](std::string k) {
      r.key = trim(std::move(k));
      if (!valid_key(r.key)) throw SelectorError("invalid label key \"" + r.key + "\"");
    };
    auto parse_set = [&](const std::string& rest) {
      std::string s = trim(rest);
      if (s.size() < 2 || s.front() != '(' || s.back() != ')')
        throw SelectorError("found '" + s + "', expected: '('");
      std::string inner = s.substr(1, s.size() - 2);
      size_t start = 0;
      while (start <= inner.size()) {
        auto comma = inner.find(',', start);
        std::string v = trim(inner.substr(start, comma - start));
        if (!valid_value(v)) throw SelectorError("invalid label value: \"" + v + "\"");
        if (!v.empty() || inner.find_first_not_of(' ') != std::string::npos) r.values.push_back(v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    };
    if (term[0] == '!') {
      set_key(term.substr(1));
      r.op = Requirement::Op::DoesNotExist;
    } else if (auto p = term.find("!="); p != std::string::npos) {
      set_key(term.substr(0, p));
      r.op = Requirement::Op::NotEquals;
      r.values = {trim(term.substr(p + 2))};
    } else if (auto p2 = term.find("=="); p2 != std::string::npos) {
      set_key(term.substr(0, p2));
      r.values = {trim(term.substr(p2 + 2))};
    } else if (auto p3 = term.find('='); p3 != std::string::npos) {
      set_key(term.substr(0, p3));
      r.values = {trim(term.substr(p3 + 1))};
    } else if (auto p4 = term.find(" notin "); p4 != std::string::npos) {
      set_key(term.substr(0, p4));
      r.op = Requirement::Op::NotIn;
      parse_set(term.substr(p4 + 7));
    } else if (auto p5 = term.find(" in "); p5 != std::string::npos) {
      set_key(term.substr(0, p5));
      r.op = Requirement::Op::In;
      parse_set(term.substr(p5 + 4));
    } else {
      set_key(term);
      r.op = Requirement::Op::Exists;
    }
    if (r.op == Requirement::Op::Equals || r.op == Requirement::Op::NotEquals) {
      if (!valid_value(r.values[0]))
        throw SelectorError("invalid label value: \"" + r.values[0] + "\"");
    }
    sel.reqs_.push_back(std::move(r));
  }
  return sel;
}

LabelSelector LabelSelector::from_json(const nlohmann::json& selector) {
  LabelSelector sel;
  if (!selector.is_object()) return sel;
  if (auto it = selector.find("matchLabels"); it != selector.end() && it->is_object()) {
    for (auto& [k, v] : it->items())
      sel.reqs_.push_back(
          {k, Requirement::Op::Equals, {v.is_string() ? v.get<std::string>() : v.dump()}});
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && it->is_array()) {
    for (const auto& e : *it) {
      Requirement r;
      r.key = e.value("key", "");
      std::string op = e.value("operator", "");
      if (op == "In")
        r.op = Requirement::Op::In;
      else if (op == "NotIn")
        r.op = Requirement::Op::NotIn;
      else if (op == "Exists")
        r.op = Requirement::Op::Exists;
      else if (op == "DoesNotExist")
        r.op = Requirement::Op::DoesNotExist;
      else
        throw SelectorError("\"" + op + "\" is not a valid label selector operator");
      if (auto vs = e.find("values"); vs != e.end() && vs->is_array())
        for (const auto& v : *vs) r.values.push_back(v.get<std::string>());
      sel.reqs_.push_back(std::move(r));
    }
  }
  return sel;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& r : reqs_) {
    auto it = labels.find(r.key);
    bool has = it != labels.end();
    switch (r.op) {
      case Requirement::Op::Equals:
        if (!has || it->second != r.values[0]) return false;
        break;
      case Requirement::Op::NotEquals:
        if (has && it->second == r.values[0]) return false;
        break;
      case Requirement::Op::In:
        if (!has || std::find(r.values.begin(), r.values.end(), it->second) == r.values.end())
          return false;
        break;
      case Requirement::Op::NotIn:
        if (has && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end())
          return false;
        break;
      case Requirement::Op::Exists:
        if (!has) return false;
        break;
      case Requirement::Op::DoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::matches(const nlohmann::json& labels_object) const {
  if (reqs_.empty()) return true;
  std::map<std::string, std::string> labels;
  if (labels_object.is_object())
    for (auto& [k, v] : labels_object.items())
      if (v.is_string()) labels[k] = v.get<std::string>();
  return matches(labels);
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (const auto& r : reqs_) {
    if (!out.empty()) out += ",";
    auto join = [&] {
      std::string s;
      for (const auto& v : r.values) s += (s.empty() ? "" : ",") + v;
      return s;
    };
    switch (r.op) {
      case Requirement::Op::Equals:
        out += r.key + "=" + r.values[0];
        break;
      case Requirement::Op::NotEquals:
        out += r.key + "!=" + r.values[0];
        break;
      case Requirement::Op::In:
        out += r.key + " in (" + join() + ")";
        break;
      case Requirement::Op::NotIn:
        out += r.key + " notin (" + join() + ")";
        break;
      case Requirement::Op::Exists:
        out += r.key;
        break;
      case Requirement::Op::DoesNotExist:
        out += "!" + r.key;
        break;
    }
  }
  return out;
}

FieldSelector FieldSelector::parse(const std::string& text) {
  FieldSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& term : split_terms(text)) {
    Term t;
    if (auto p = term.find("!="); p != std::string::npos) {
      t.field = trim(term.substr(0, p));
      t.negate = true;
      t.value = trim(term.substr(p + 2));
    } else if (auto p2 = term.find("=="); p2 != std::string::npos) {
      t.field = trim(term.substr(0, p2));
      t.value = trim(term.substr(p2 + 2));
    } else if (auto p3 = term.find('='); p3 != std::string::npos) {
      t.field = trim(term.substr(0, p3));
      t.value = trim(term.substr(p3 + 1));
    } else {
      throw SelectorError("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    if (t.field.empty()) throw SelectorError("invalid field selector: '" + term + "'");
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

std::string field_value(const nlohmann::json& object, const std::string& dotted_path) {
  const nlohmann::json* cur = &object;
  size_t start = 0;
  while (start <= dotted_path.size()) {
    auto dot = dotted_path.find('.', start);
    std::string part = dotted_path.substr(start, dot - start);
    if (!cur->is_object()) return "";
    auto it = cur->find(part);
    if (it == cur->end()) return "";
    cur = &*it;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const auto& t : terms_) {
    bool eq = field_value(object, t.field) == t.value;
    if (eq == t.negate) return false;
  }
  return true;
}

}  // namespace rc::kube
