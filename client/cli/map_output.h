// MapOutput is where map and starmap write: results to standard output,
// messages to standard error and, when both are a terminal, a progress line
// at the bottom of the terminal (done/total, rate, ETA, failures) that the
// results never tear. On a terminal, output is gathered and the line redrawn
// at most ten times a second; otherwise nothing but the results and the
// messages is written, each result as soon as it is known.
//
//   MapOutput output(&std::cout, &std::cerr, /*progress_line=*/true);
//   output.Result("[1]\n");
//   output.ItemsDone(1, /*failed=*/0);
//   output.Tick();    // often; redraws when it is time
//   output.Finish();  // clears the line
#ifndef NETPOOL_CLIENT_CLI_MAP_OUTPUT_H_
#define NETPOOL_CLIENT_CLI_MAP_OUTPUT_H_

#include <cstddef>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace netpool {
namespace cli {

// How far a map has got.
struct MapProgress {
  size_t done = 0;
  size_t failed = 0;
  std::optional<size_t> total;  // unknown while the input is still being read
  absl::Duration elapsed;
};

// The progress line's text, e.g. "120/1000 done  40.0/s  ETA 0:22  3 failed";
// "120/? done  40.0/s  0 failed" while the total is unknown.
std::string FormatProgress(const MapProgress& progress);

class MapOutput {
 public:
  // How often the progress line may be redrawn.
  static constexpr absl::Duration kRedrawInterval = absl::Milliseconds(100);

  MapOutput(std::ostream* out, std::ostream* err, bool progress_line,
            std::function<absl::Time()> now = absl::Now);
  MapOutput(const MapOutput&) = delete;
  MapOutput& operator=(const MapOutput&) = delete;

  void Result(std::string_view text);
  void Message(std::string_view text);

  // Counts finished items.
  void ItemsDone(size_t count, size_t failed);
  void SetTotal(size_t total);

  // Writes what was gathered and redraws the line, when kRedrawInterval has
  // passed since the last time. Call it at least that often.
  void Tick();
  // Writes what is left and clears the line.
  void Finish();

 private:
  void Redraw();
  // Clears the line if it is shown, then writes what was gathered.
  void WriteGathered();

  std::ostream* const out_;
  std::ostream* const err_;
  const bool progress_line_;
  const std::function<absl::Time()> now_;
  const absl::Time started_;

  MapProgress progress_;
  // On a terminal, what waits for the next redraw.
  std::string gathered_results_;
  std::string gathered_messages_;
  bool line_shown_ = false;
  absl::Time last_redraw_ = absl::InfinitePast();
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_MAP_OUTPUT_H_
