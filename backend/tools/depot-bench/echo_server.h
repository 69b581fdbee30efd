// `depot-bench echo-server --listen HOST:PORT`: serves depot.bench.Echo (see
// echo.proto) until SIGINT/SIGTERM. Returns the process exit code.
#pragma once

#include <string>

namespace depot::bench {

int runEchoServer(const std::string& listen);

}  // namespace depot::bench
