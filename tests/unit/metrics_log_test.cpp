// parse_metric_lines / summarize_metrics: the remotecode.metric line format.
#include <gtest/gtest.h>

#include "remotecode/controllers/metrics_log.h"

namespace rc::controllers {
namespace {

std::string describe(const std::vector<MetricPoint>& points) {
  std::string out;
  for (const MetricPoint& p : points) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", p.value);
    out += p.name + "=" + buf;
    if (p.step) out += "@" + std::to_string(*p.step);
    out += ";";
  }
  return out;
}

std::string parse(const std::string& log) {
  return describe(parse_metric_lines(log));
}

TEST(MetricsLog, BasicLine) {
  EXPECT_EQ(parse("remotecode.metric loss=0.5 step=10\n"), "loss=0.5@10;");
  EXPECT_EQ(parse("remotecode.metric loss=0.5"), "loss=0.5;");  // no newline, no step
  EXPECT_EQ(parse("remotecode.metric loss=0.25 accuracy=0.9 step=3"),
            "loss=0.25@3;accuracy=0.9@3;");
}

TEST(MetricsLog, StepAppliesToTheWholeLineWhereverItIs) {
  EXPECT_EQ(parse("remotecode.metric step=7 loss=1 acc=2"), "loss=1@7;acc=2@7;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=7 acc=2"), "loss=1@7;acc=2@7;");
  // The last valid step= of the line wins.
  EXPECT_EQ(parse("remotecode.metric loss=1 step=7 step=8"), "loss=1@8;");
}

TEST(MetricsLog, NumberFormats) {
  EXPECT_EQ(parse("remotecode.metric a=1 b=-2 c=+3 d=.5 e=5. f=1e-3 g=2.5E+2 h=-0.0"),
            "a=1;b=-2;c=3;d=0.5;e=5;f=0.001;g=250;h=-0;");
  std::vector<MetricPoint> p = parse_metric_lines("remotecode.metric x=0.1");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_DOUBLE_EQ(p[0].value, 0.1);
}

TEST(MetricsLog, RejectsNonFiniteHexAndJunk) {
  EXPECT_EQ(parse("remotecode.metric a=inf b=-inf c=nan d=NaN e=Infinity f=0x10 g=0x1p3 ok=1"),
            "ok=1;");
  EXPECT_EQ(parse("remotecode.metric a=1e999 b=-1e999 ok=2"), "ok=2;");  // overflow
  EXPECT_EQ(parse("remotecode.metric a= b=1,5 c=1.2.3 d=1e e=-- f=+-1 g=. h=1x ok=3"), "ok=3;");
}

TEST(MetricsLog, MalformedPairsAreSkippedAlone) {
  EXPECT_EQ(parse("remotecode.metric loss noequals =1 1abc=2 bad!name=3 good=4"), "good=4;");
  EXPECT_EQ(parse("remotecode.metric a=1 a==2 b=3"), "a=1;b=3;");
  // Names: [A-Za-z_][A-Za-z0-9_./-]*
  EXPECT_EQ(parse("remotecode.metric train/loss=1 val.acc=2 lr-0=3 _x=4 Top5=5"),
            "train/loss=1;val.acc=2;lr-0=3;_x=4;Top5=5;");
}

TEST(MetricsLog, StepMustBeANonNegativeInteger) {
  EXPECT_EQ(parse("remotecode.metric loss=1 step=-1"), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=1.5"), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=1e3"), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=+4"), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step="), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=99999999999999999999999"), "loss=1;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=0"), "loss=1@0;");
  EXPECT_EQ(parse("remotecode.metric loss=1 step=9223372036854775807"),
            "loss=1@9223372036854775807;");
  // A malformed step does not replace an earlier good one, nor become a metric.
  EXPECT_EQ(parse("remotecode.metric loss=1 step=5 step=x"), "loss=1@5;");
}

TEST(MetricsLog, StepAloneYieldsNothing) {
  EXPECT_TRUE(parse_metric_lines("remotecode.metric step=5\n").empty());
  EXPECT_TRUE(parse_metric_lines("remotecode.metric\n").empty());
  EXPECT_TRUE(parse_metric_lines("remotecode.metric   \n").empty());
}

TEST(MetricsLog, Prefixes) {
  EXPECT_EQ(parse("[rank0] remotecode.metric loss=1 step=2"), "loss=1@2;");
  EXPECT_EQ(parse("2026-01-01T10:00:00.123Z remotecode.metric loss=1"), "loss=1;");
  EXPECT_EQ(parse("INFO:train:remotecode.metric loss=1"), "loss=1;");
  EXPECT_EQ(parse("[rank0]:remotecode.metric loss=1"), "loss=1;");
  EXPECT_EQ(parse("\t  remotecode.metric\tloss=1\tstep=3"), "loss=1@3;");
}

TEST(MetricsLog, MarkerMustStandAloneAndBeFollowedByWhitespace) {
  EXPECT_EQ(parse("remotecode.metricloss=1"), "");
  EXPECT_EQ(parse("remotecode.metric=1"), "");
  EXPECT_EQ(parse("remotecode.metrics loss=1"), "");
  EXPECT_EQ(parse("myremotecode.metric loss=1"), "");
  EXPECT_EQ(parse("x.remotecode.metric loss=1"), "");
  EXPECT_EQ(parse("REMOTECODE.METRIC loss=1"), "");
  // A bad first occurrence does not hide a good later one.
  EXPECT_EQ(parse("remotecode.metricX then remotecode.metric loss=1"), "loss=1;");
}

TEST(MetricsLog, OtherLinesAndLineEndings) {
  std::string log =
      "Epoch 1/3\n"
      "loss=9 (not a metric line)\n"
      "remotecode.metric loss=0.9 step=1\r\n"
      "\n"
      "Traceback: remotecode.metric is what we print\n"
      "remotecode.metric loss=0.5 acc=0.8 step=2\r\n"
      "remotecode.metric acc=0.85\n"
      "done";
  EXPECT_EQ(parse(log), "loss=0.9@1;loss=0.5@2;acc=0.8@2;acc=0.85;");
  EXPECT_TRUE(parse_metric_lines("").empty());
  EXPECT_TRUE(parse_metric_lines("\n\n\n").empty());
}

TEST(MetricsLog, SummaryKeepsLastValuesAndLastStep) {
  std::vector<MetricPoint> p = parse_metric_lines(
      "remotecode.metric loss=0.9 acc=0.1 step=1\n"
      "remotecode.metric loss=0.5 step=2\n"
      "remotecode.metric lr=0.001\n"
      "remotecode.metric acc=0.7 step=3\n"
      "remotecode.metric loss=0.4\n");
  MetricSummary s = summarize_metrics(p);
  EXPECT_EQ(s.last, (std::map<std::string, double>{{"loss", 0.4}, {"acc", 0.7}, {"lr", 0.001}}));
  ASSERT_TRUE(s.step);
  EXPECT_EQ(*s.step, 3);

  MetricSummary empty = summarize_metrics({});
  EXPECT_TRUE(empty.last.empty());
  EXPECT_FALSE(empty.step);

  MetricSummary no_step = summarize_metrics(parse_metric_lines("remotecode.metric a=1"));
  EXPECT_EQ(no_step.last.at("a"), 1);
  EXPECT_FALSE(no_step.step);
}

TEST(MetricsLog, ManyLines) {
  std::string log;
  for (int i = 0; i < 10000; ++i)
    log += "[rank0] remotecode.metric loss=" + std::to_string(1.0 / (i + 1)) +
           " step=" + std::to_string(i) + "\nnoise line " + std::to_string(i) + "\n";
  std::vector<MetricPoint> p = parse_metric_lines(log);
  ASSERT_EQ(p.size(), 10000u);
  MetricSummary s = summarize_metrics(p);
  EXPECT_EQ(*s.step, 9999);
  EXPECT_NEAR(s.last.at("loss"), 1.0 / 10000, 1e-9);
}

}  // namespace
}  // namespace rc::controllers
