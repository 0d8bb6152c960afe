// Everything a netpool user needs: values, the Pool client and the worker SDK.
#ifndef NETPOOL_NETPOOL_H_
#define NETPOOL_NETPOOL_H_

#include "netpool/pool.h"
#include "netpool/value.h"
#include "netpool/worker.h"

#endif  // NETPOOL_NETPOOL_H_
