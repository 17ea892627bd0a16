// Training metrics printed by the user's program, one per line, anywhere in its output:
//   remotecode.metric <name>=<number> [<name>=<number> ...] [step=<integer>]
// Names are [A-Za-z_][A-Za-z0-9_./-]*; numbers as strtod reads them (no inf/nan). Other lines
// and malformed pairs are ignored.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rc::controllers {

struct MetricPoint {
  std::string name;
  double value = 0;
  std::optional<int64_t> step;
};

// Every metric point in `log`, in order.
std::vector<MetricPoint> parse_metric_lines(const std::string& log);

struct MetricSummary {
  std::map<std::string, double> last;  // last value of each metric
  std::optional<int64_t> step;         // the last step seen
};
MetricSummary summarize_metrics(const std::vector<MetricPoint>& points);

}  // namespace rc::controllers
