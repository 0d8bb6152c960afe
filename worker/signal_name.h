// How netpool names a signal in error messages: "signal 11 (SIGSEGV)".
#ifndef NETPOOL_WORKER_SIGNAL_NAME_H_
#define NETPOOL_WORKER_SIGNAL_NAME_H_

#include <string>

namespace netpool {

std::string DescribeSignal(int signo);

}  // namespace netpool

#endif  // NETPOOL_WORKER_SIGNAL_NAME_H_
