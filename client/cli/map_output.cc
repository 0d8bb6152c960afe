#include "client/cli/map_output.h"

#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace netpool {
namespace cli {
namespace {

// The terminal control sequence that erases from the cursor to the end of
// the line; the progress line starts with '\r' (back to the line's start).
constexpr char kEraseToEndOfLine[] = "\033[K";

std::string FormatRate(double per_second) {
  return per_second < 10 ? absl::StrFormat("%.1f/s", per_second)
                         : absl::StrFormat("%.0f/s", per_second);
}

// M:SS, or H:MM:SS from an hour up.
std::string FormatClock(double seconds) {
  const int64_t total = static_cast<int64_t>(std::ceil(seconds));
  const int64_t hours = total / 3600;
  const int64_t minutes = total / 60 % 60;
  const int64_t rest = total % 60;
  if (hours > 0) return absl::StrFormat("%d:%02d:%02d", hours, minutes, rest);
  return absl::StrFormat("%d:%02d", minutes, rest);
}

}  // namespace

std::string FormatProgress(const MapProgress& progress) {
  std::string line = absl::StrCat(
      progress.done, "/", progress.total.has_value() ? absl::StrCat(*progress.total) : "?",
      " done");
  const double seconds = absl::ToDoubleSeconds(progress.elapsed);
  if (progress.done > 0 && seconds > 0) {
    const double rate = static_cast<double>(progress.done) / seconds;
    absl::StrAppend(&line, "  ", FormatRate(rate));
    if (progress.total.has_value() && *progress.total >= progress.done) {
      absl::StrAppend(&line, "  ETA ",
                      FormatClock(static_cast<double>(*progress.total - progress.done) / rate));
    }
  }
  absl::StrAppend(&line, "  ", progress.failed, " failed");
  return line;
}

MapOutput::MapOutput(std::ostream* out, std::ostream* err, bool progress_line,
                     std::function<absl::Time()> now)
    : out_(out),
      err_(err),
      progress_line_(progress_line),
      now_(std::move(now)),
      started_(now_()) {}

void MapOutput::Result(std::string_view text) {
  if (progress_line_) {
    gathered_results_.append(text);
    return;
  }
  out_->write(text.data(), static_cast<std::streamsize>(text.size()));
  out_->flush();
}

void MapOutput::Message(std::string_view text) {
  if (progress_line_) {
    gathered_messages_.append(text);
    return;
  }
  err_->write(text.data(), static_cast<std::streamsize>(text.size()));
}

void MapOutput::ItemsDone(size_t count, size_t failed) {
  progress_.done += count;
  progress_.failed += failed;
}

void MapOutput::SetTotal(size_t total) { progress_.total = total; }

void MapOutput::Tick() {
  if (!progress_line_) return;
  const absl::Time now = now_();
  if (now - last_redraw_ < kRedrawInterval) return;
  last_redraw_ = now;
  progress_.elapsed = now - started_;
  Redraw();
}

void MapOutput::Finish() {
  if (!progress_line_) return;
  WriteGathered();
  err_->flush();
}

void MapOutput::Redraw() {
  WriteGathered();
  *err_ << '\r' << FormatProgress(progress_) << kEraseToEndOfLine;
  err_->flush();
  line_shown_ = true;
}

void MapOutput::WriteGathered() {
  // The line goes before anything is written under it, or the output would
  // continue where the line's text ends.
  if (line_shown_) {
    *err_ << '\r' << kEraseToEndOfLine;
    err_->flush();
    line_shown_ = false;
  }
  out_->write(gathered_results_.data(), static_cast<std::streamsize>(gathered_results_.size()));
  out_->flush();
  gathered_results_.clear();
  err_->write(gathered_messages_.data(),
              static_cast<std::streamsize>(gathered_messages_.size()));
  gathered_messages_.clear();
}

}  // namespace cli
}  // namespace netpool
