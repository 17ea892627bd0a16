// canonical_quantity against what kube-apiserver v1.36.3 stored: each pair was applied as a
// ResourceQuota's spec.hard (a core/v1 ResourceList, so rounded up to milli) and read back.
#include <gtest/gtest.h>

#include "remotecode/kube/quantity.h"

using rc::kube::canonical_quantity;

TEST(CanonicalQuantity, ResourceListsAsTheApiserverStoresThem) {
  const std::pair<const char*, const char*> seen[] = {{"1000m", "1"},
                                                      {"1.5", "1500m"},
                                                      {"2000", "2k"},
                                                      {"0.5", "500m"},
                                                      {"1024Mi", "1Gi"},
                                                      {"1536Mi", "1536Mi"},
                                                      {"1Ki", "1Ki"},
                                                      {"100Ki", "100Ki"},
                                                      {"1023Ki", "1023Ki"},
                                                      {"512", "512"},
                                                      {"1e3", "1e3"},
                                                      {"1.5e3", "1500"},
                                                      {"12e2", "1200"},
                                                      {"0.1", "100m"},
                                                      {"1n", "1m"},
                                                      {"0.0000000001", "1m"},
                                                      {"1.0000000001", "1001m"},
                                                      {"123456789", "123456789"},
                                                      {"1G", "1G"},
                                                      {"1000M", "1G"},
                                                      {"1Gi", "1Gi"},
                                                      {"0.5Gi", "512Mi"},
                                                      {"1.5Gi", "1536Mi"},
                                                      {"2048", "2048"},
                                                      {"1E", "1E"},
                                                      {"1Ei", "1Ei"},
                                                      {"100m", "100m"},
                                                      {"10u", "1m"},
                                                      {"1.23456789", "1235m"},
                                                      {"5e-3", "5e-3"},
                                                      {"0", "0"},
                                                      {"1000000", "1M"},
                                                      {"3000m", "3"},
                                                      {"1e9", "1e9"},
                                                      {"1e-9", "1e-3"},
                                                      {"1M", "1M"},
                                                      {"999", "999"},
                                                      {"1001", "1001"},
                                                      {"1000", "1k"},
                                                      {"0.001", "1m"},
                                                      {"1100m", "1100m"}};
  for (const auto& [in, want] : seen) EXPECT_EQ(canonical_quantity(in, -3), want) << in;
}

TEST(CanonicalQuantity, OtherQuantitiesKeepNanoPrecision) {
  EXPECT_EQ(canonical_quantity("1n"), "1n");
  EXPECT_EQ(canonical_quantity("1.5u"), "1500n");
  EXPECT_EQ(canonical_quantity("0.0000000001"), "1n");  // rounded up to nano
  EXPECT_EQ(canonical_quantity("-1500m"), "-1500m");
}

TEST(CanonicalQuantity, WhatIsNoQuantityIsNotCanonicalized) {
  for (const char* bad : {"", "abc", "1.2.3", "1x", "1Ki2", "--1", "1e", "e3", "1e+"})
    EXPECT_EQ(canonical_quantity(bad), std::nullopt) << bad;
  // Too large for exact arithmetic: left to the caller as written.
  EXPECT_EQ(canonical_quantity("123456789012345678901234567890123456789Ei"), std::nullopt);
}
