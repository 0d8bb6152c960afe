// Lets GoogleTest print a netpool::Value as JSON in failure messages.
#ifndef NETPOOL_TESTS_WORKER_VALUE_PRINTER_H_
#define NETPOOL_TESTS_WORKER_VALUE_PRINTER_H_

#include <ostream>

#include "netpool/value.h"

namespace netpool {

inline void PrintTo(const Value& value, std::ostream* out) { *out << value.ToJson(); }

}  // namespace netpool

#endif  // NETPOOL_TESTS_WORKER_VALUE_PRINTER_H_
