// imaging-worker: a netpool worker node that also serves the source
// notebook's imaging functions. Same flags as netpool-worker; the built-ins
// (exec, echo, sleep) come with it.
//
// The functions stand in for real neuroimaging steps: each sleeps for the
// task time (IMAGING_TASK_SECONDS, default 0.2 s; the notebook used 2 s) and
// returns the name of the file it would have written.
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "netpool/netpool.h"

namespace {

absl::Duration TaskTime() {
  double seconds = 0.2;
  if (const char* env = std::getenv("IMAGING_TASK_SECONDS")) {
    if (!absl::SimpleAtod(env, &seconds) || seconds < 0) seconds = 0.2;
  }
  return absl::Seconds(seconds);
}

absl::StatusOr<std::string> FileArgument(const std::vector<netpool::Value>& args, size_t index) {
  if (args.size() <= index || !args[index].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("argument ", index, " must be a file name"));
  }
  return args[index].AsString();
}

std::string Stem(const std::string& file) {
  return std::string(absl::StripSuffix(absl::StripSuffix(file, ".gz"), ".nii"));
}

// crunch_image(file) or crunch_image(file, modality)
absl::StatusOr<netpool::Value> CrunchImage(const std::vector<netpool::Value>& args,
                                           netpool::TaskContext&) {
  absl::StatusOr<std::string> file = FileArgument(args, 0);
  if (!file.ok()) return file.status();
  std::string modality = args.size() > 1 && args[1].is_string() ? args[1].AsString() : "t1";
  absl::SleepFor(TaskTime());
  return absl::StrCat(Stem(*file), "_", modality, "_crunched.nii.gz");
}

// linear_registration(t1_file) -> the linearly registered image
absl::StatusOr<netpool::Value> LinearRegistration(const std::vector<netpool::Value>& args,
                                                  netpool::TaskContext&) {
  absl::StatusOr<std::string> file = FileArgument(args, 0);
  if (!file.ok()) return file.status();
  absl::SleepFor(TaskTime());
  return absl::StrCat(Stem(*file), "_lin.nii.gz");
}

// nonlinear_registration(linear_result) -> the non-linearly registered image
absl::StatusOr<netpool::Value> NonlinearRegistration(const std::vector<netpool::Value>& args,
                                                     netpool::TaskContext&) {
  absl::StatusOr<std::string> file = FileArgument(args, 0);
  if (!file.ok()) return file.status();
  absl::SleepFor(TaskTime());
  return absl::StrCat(Stem(*file), "_nonlin.nii.gz");
}

}  // namespace

int main(int argc, char** argv) {
  netpool::Register("crunch_image", CrunchImage);
  netpool::Register("linear_registration", LinearRegistration);
  netpool::Register("nonlinear_registration", NonlinearRegistration);
  return netpool::WorkerApp().Main(argc, argv);
}
