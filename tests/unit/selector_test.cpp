// Label and field selectors in the API's string syntax, as the simulator and informers use them.
#include <gtest/gtest.h>

#include "remotecode/kube/selector.h"

using rc::kube::FieldSelector;
using rc::kube::LabelSelector;
using rc::kube::SelectorError;

namespace {

std::map<std::string, std::string> labels(
    std::initializer_list<std::pair<const std::string, std::string>> l) {
  return {l};
}

TEST(LabelSelector, EveryOperator) {
  auto m = labels({{"app", "web"}, {"tier", "front"}, {"env", "prod"}});
  EXPECT_TRUE(LabelSelector::parse("app=web").matches(m));
  EXPECT_TRUE(LabelSelector::parse("app==web").matches(m));
  EXPECT_FALSE(LabelSelector::parse("app!=web").matches(m));
  EXPECT_TRUE(LabelSelector::parse("app!=db").matches(m));
  EXPECT_TRUE(LabelSelector::parse("missing!=x").matches(m)) << "!= matches an absent label";
  EXPECT_TRUE(LabelSelector::parse("env in (prod, staging)").matches(m));
  EXPECT_FALSE(LabelSelector::parse("env in (dev)").matches(m));
  EXPECT_TRUE(LabelSelector::parse("env notin (dev,test)").matches(m));
  EXPECT_FALSE(LabelSelector::parse("env notin (prod)").matches(m));
  EXPECT_TRUE(LabelSelector::parse("tier").matches(m));
  EXPECT_FALSE(LabelSelector::parse("!tier").matches(m));
  EXPECT_TRUE(LabelSelector::parse("!gpu").matches(m));
  EXPECT_TRUE(LabelSelector::parse("app=web,tier=front,!gpu,env in (prod)").matches(m));
  EXPECT_FALSE(LabelSelector::parse("app=web,tier=back").matches(m));
  EXPECT_TRUE(LabelSelector::parse("").matches(m)) << "the empty selector matches everything";
}

TEST(LabelSelector, PrefixedKeysAndBadInput) {
  auto m = labels({{"nvidia.com/gpu.present", "true"}});
  EXPECT_TRUE(LabelSelector::parse("nvidia.com/gpu.present=true").matches(m));
  EXPECT_THROW(LabelSelector::parse("app=we b"), SelectorError);
  EXPECT_THROW(LabelSelector::parse("app in web"), SelectorError);
  EXPECT_THROW(LabelSelector::parse("a=b,,c=d"), SelectorError);
}

TEST(LabelSelector, FromMetav1Object) {
  auto sel = LabelSelector::from_json({{"matchLabels", {{"app", "web"}}},
                                       {"matchExpressions",
                                        {{{"key", "env"}, {"operator", "In"}, {"values", {"prod"}}},
                                         {{"key", "gpu"}, {"operator", "DoesNotExist"}}}}});
  EXPECT_TRUE(sel.matches(labels({{"app", "web"}, {"env", "prod"}})));
  EXPECT_FALSE(sel.matches(labels({{"app", "web"}, {"env", "prod"}, {"gpu", "1"}})));
  EXPECT_EQ(sel.to_string(), "app=web,env in (prod),!gpu");
  EXPECT_THROW(
      LabelSelector::from_json({{"matchExpressions", {{{"key", "a"}, {"operator", "Near"}}}}}),
      SelectorError);
}

TEST(FieldSelector, EqualityOnDottedPaths) {
  nlohmann::json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}},
                        {"spec", {{"nodeName", "gpu-node-0"}}},
                        {"status", {{"phase", "Running"}}}};
  EXPECT_TRUE(FieldSelector::parse("status.phase=Running").matches(pod));
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName==gpu-node-0,metadata.namespace=ns").matches(pod));
  EXPECT_FALSE(FieldSelector::parse("status.phase!=Running").matches(pod));
  EXPECT_TRUE(FieldSelector::parse("spec.nodeName!=").matches(pod)) << "bound pods";
  EXPECT_FALSE(FieldSelector::parse("spec.schedulerName=x").matches(pod))
      << "absent fields are empty";
  EXPECT_THROW(FieldSelector::parse("status.phase"), SelectorError);
}

}  // namespace
