// Label and field selectors in the string syntax of the Kubernetes API (`a=b,c!=d,e in (f,g)`).
// Parsed once, matched many times: the simulator filters lists and watches, informers index.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace rc::kube {

class SelectorError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct Requirement {
  enum class Op { Equals, NotEquals, In, NotIn, Exists, DoesNotExist };
  std::string key;
  Op op = Op::Equals;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // Throws SelectorError with a message naming the bad part.
  static LabelSelector parse(const std::string& text);
  // From a metav1.LabelSelector object ({matchLabels, matchExpressions}).
  static LabelSelector from_json(const nlohmann::json& selector);
  bool matches(const std::map<std::string, std::string>& labels) const;
  bool matches(const nlohmann::json& labels_object) const;
  bool empty() const { return reqs_.empty(); }
  const std::vector<Requirement>& requirements() const { return reqs_; }
  std::string to_string() const;

 private:
  std::vector<Requirement> reqs_;
};

// Field selectors allow only =, == and != on a fixed set of fields per resource.
class FieldSelector {
 public:
  struct Term {
    std::string field;
    bool negate = false;
    std::string value;
  };
  static FieldSelector parse(const std::string& text);
  const std::vector<Term>& terms() const { return terms_; }
  bool empty() const { return terms_.empty(); }
  // Values are read from the object by dotted path ("spec.nodeName"); a missing field is "".
  bool matches(const nlohmann::json& object) const;

 private:
  std::vector<Term> terms_;
};

// Reads a dotted path ("metadata.name") as a string; "" when absent.
std::string field_value(const nlohmann::json& object, const std::string& dotted_path);

}  // namespace rc::kube
