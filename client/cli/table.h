// The plain text tables of `netpool jobs` and `netpool workers`: columns
// padded to line up, separated by two spaces, no colours, no trailing blanks.
#ifndef NETPOOL_CLIENT_CLI_TABLE_H_
#define NETPOOL_CLIENT_CLI_TABLE_H_

#include <string>
#include <vector>

namespace netpool {
namespace cli {

// One line per row, the first row being the header. Rows may be ragged.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace cli
}  // namespace netpool

#endif  // NETPOOL_CLIENT_CLI_TABLE_H_
