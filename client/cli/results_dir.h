// ResultsDir is `netpool map -- CMD --results DIR`, GNU parallel's --results
// for one input source: each job's output in DIR/1/ITEM/stdout and
// DIR/1/ITEM/stderr, and its sequence number in DIR/1/ITEM/seq, ITEM being
// the item with '\' written "\\" and '/' written "\_" (so it stays one
// directory), as parallel writes them.
#ifndef NETPOOL_CLIENT_CLI_RESULTS_DIR_H_
#define NETPOOL_CLIENT_CLI_RESULTS_DIR_H_

#include <cstddef>
#include <string>
#include <utility>

#include "absl/status/status.h"

namespace netpool {
namespace cli {

// The directory name of `item` under DIR/1.
std::string ResultsItemName(const std::string& item);

class ResultsDir {
 public:
  explicit ResultsDir(std::string dir) : dir_(std::move(dir)) {}

  // Writes one job's files, creating the directories they go in.
  absl::Status Write(const std::string& item, size_t sequence, const std::string& stdout_data,
                     const std::string& stderr_data) const;

 private:
  const std::string dir_;
};

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_RESULTS_DIR_H_
