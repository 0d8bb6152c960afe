#include "client/cli/results_dir.h"

#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace netpool {
namespace cli {
namespace {

absl::Status WriteFile(const std::filesystem::path& path, const std::string& data) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(data.data(), static_cast<std::streamsize>(data.size()));
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
  return absl::OkStatus();
}

}  // namespace

std::string ResultsItemName(const std::string& item) {
  return absl::StrReplaceAll(item, {{"\\", "\\\\"}, {"\t", "\\t"}, {"/", "\\_"}});
}

absl::Status ResultsDir::Write(const std::string& item, size_t sequence,
                               const std::string& stdout_data,
                               const std::string& stderr_data) const {
  const std::filesystem::path directory =
      std::filesystem::path(dir_) / "1" / ResultsItemName(item);
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", directory.string(), ": ", error.message()));
  }
  const std::pair<const char*, std::string> files[] = {
      {"seq", absl::StrCat(sequence)}, {"stdout", stdout_data}, {"stderr", stderr_data}};
  for (const auto& [name, data] : files) {
    if (absl::Status status = WriteFile(directory / name, data); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace cli
}  // namespace netpool
